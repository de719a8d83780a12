"""Settings for the serving benchmark and the soak only (bench/serve.py, bench/soak.py): the shop's settings,
the bench URLconf on top.

The throttle stays on (its cost is part of what is measured) with a rate wrk on one address never reaches.
"""

from shop.settings import *  # noqa: F403
from shop.settings import RECOMMENDER

ROOT_URLCONF = "bench.serve_urls"
RECOMMENDER = {**RECOMMENDER, "THROTTLE_RATES": {"anon": "10000/s", "events": "10000/s"}}
