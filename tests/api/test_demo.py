from io import StringIO

from messaging.api.demo import DEMO_KEY, seed
from messaging.api.models import ApiKey
from tests.api.conftest import graph_error, post


def test_the_demo_key_is_seeded_idempotently_and_works(client, db, settings):
    settings.DEBUG = True
    seed(StringIO())
    seed(StringIO())
    assert ApiKey.objects.count() == 1
    graph_error(post(client, DEMO_KEY, {"messaging_product": "whatsapp"}), 400, 100, "missing_parameter")


def test_no_demo_key_without_debug(db, settings):
    settings.DEBUG = False
    seed(StringIO())
    assert not ApiKey.objects.exists()
