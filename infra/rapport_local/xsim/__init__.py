"""A local, deterministic X API v2 simulator for the demo and the tests (see docs/xsim.md).

The world model (``world``) is separate from the HTTP layer (``api``, ``server``); billing, rate limits and
injected faults each have their own module.
"""

from rapport_local.xsim.billing import Ledger
from rapport_local.xsim.records import Follower, SimPost, SimUser
from rapport_local.xsim.server import Exchange, XSimApp, XSimServer
from rapport_local.xsim.world import World

__all__ = ["Exchange", "Follower", "Ledger", "SimPost", "SimUser", "World", "XSimApp", "XSimServer"]
