"""Django's Redis cache with one client per connection pool, and an atomic rate limiter.

Django's ``RedisCacheClient`` builds a new ``redis.Redis`` for every cache
call, and redis-py fills a table of about 170 response callbacks in each
constructor. Every API request reads its throttle and most pages read a
session, so that table was rebuilt several times a request; clients are
thread-safe and cheap to keep, so this backend keeps one per pool.
"""

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient

# GCRA (the generic cell rate algorithm): one key per limit holds the theoretical
# arrival time (TAT) of the next request. A request is allowed when the TAT, pushed
# on by one interval, stays within one period of now; refused requests change
# nothing. Redis's own clock serves every web server alike, and the script runs
# atomically, so concurrent requests cannot both take the last slot.
GCRA_SCRIPT = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local interval = tonumber(ARGV[1])
local period = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1])) or now
if tat < now then tat = now end
-- A limit whose period was shortened must not carry the old period's backlog.
if tat > now + period then tat = now + period end
local next_tat = tat + interval
local wait = next_tat - period - now
if wait > 0 then return tostring(wait) end
redis.call('SET', KEYS[1], string.format('%.6f', next_tat), 'PX', math.ceil((next_tat - now) * 1000))
return '0'
"""


class ClientReusingRedisCacheClient(RedisCacheClient):
    """Django's Redis client holder, keeping one ``redis.Redis`` per connection pool."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._clients = {}
        self._gcra = {}

    def get_client(self, key=None, *, write=False):
        index = self._get_connection_pool_index(write)
        client = self._clients.get(index)
        if client is None:
            if index not in self._pools:
                self._pools[index] = self._pool_class.from_url(self._servers[index], **self._pool_options)
            client = self._clients[index] = self._client(connection_pool=self._pools[index])
        return client

    def rate_take(self, key: str, *, interval: float, period: float) -> float:
        client = self.get_client(key, write=True)
        script = self._gcra.get(id(client))
        if script is None:
            script = self._gcra[id(client)] = client.register_script(GCRA_SCRIPT)
        return float(script(keys=[key], args=[repr(interval), repr(period)]))


class RedisCache(DjangoRedisCache):
    """The Redis cache backend of production settings."""

    def __init__(self, server, params) -> None:
        super().__init__(server, params)
        self._class = ClientReusingRedisCacheClient

    def rate_take(self, key: str, *, interval: float, period: float, version=None) -> float:
        """Take one request from the limit at KEY: 0 if allowed, else the seconds until one would be.

        The limit allows PERIOD / INTERVAL requests at once, then one per INTERVAL seconds.
        """
        return self._cache.rate_take(self.make_and_validate_key(key, version=version), interval=interval, period=period)
