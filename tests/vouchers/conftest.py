from tests.browser.conftest import live_url  # noqa: F401  (a live server for the HTTP race)
from tests.world import world  # noqa: F401  (the fixture)
