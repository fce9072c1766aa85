"""The numbers the dispensing rules use; regulators change caps and limits in the admin (docs/pharmacy.md)."""

import datetime
import math

# A session opened with a QR code serves the counter for this long.
SESSION_LIFETIME = datetime.timedelta(minutes=15)

# Caps used for a controlled class until a regulator saves a ControlledCap row:
# days' supply per rolling period, across all pharmacies.
CONTROLLED_CAP_DEFAULTS: dict[str, tuple[int, int]] = {
    "psychotropic_2": (30, 30),
    "psychotropic_1": (14, 30),
    "narcotic": (14, 30),
}

# One resident at this many different pharmacies within the window raises a flag.
HOPPING_PHARMACIES = 3
HOPPING_WINDOW = datetime.timedelta(days=7)


def days_supply(*, quantity: int, quantity_per_fill: int, max_days_supply: int) -> int:
    """Return the days a fill of QUANTITY lasts, when a full fill lasts MAX_DAYS_SUPPLY days."""
    return math.ceil(quantity * max_days_supply / quantity_per_fill)
