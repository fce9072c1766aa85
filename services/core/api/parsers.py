"""The gateway's one request body format: JSON that every part of OneCard can handle."""

import io
import re

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

# Only a \uD800-\uDFFF escape can put a surrogate into parsed JSON (raw UTF-8 cannot encode one).
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


class GatewayJSONParser(JSONParser):
    """Parse JSON, refusing what would fail later: nesting past the parser's depth and lone surrogates.

    RFC 7493 (I-JSON) forbids unpaired surrogates; Python would parse them and
    then fail to encode them in the answer that quotes them.
    """

    def parse(self, stream, media_type=None, parser_context=None):
        body = stream.read() if stream is not None else b""
        try:
            data = super().parse(io.BytesIO(body), media_type, parser_context)
        except RecursionError:
            raise ParseError("JSON parse error - the body is nested too deeply") from None
        if _SURROGATE_ESCAPE.search(body) and not _encodable(data):
            raise ParseError("JSON parse error - a string holds an unpaired UTF-16 surrogate")
        return data


def _encodable(data) -> bool:
    """Return whether every string (and key) in DATA encodes as UTF-8."""
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return False
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return True
