import pytest


@pytest.fixture(autouse=True)
def _media(settings, tmp_path, monkeypatch):
    """Uploaded CSVs and error reports go to a per-test folder (also for a real worker process)."""
    settings.MEDIA_ROOT = tmp_path / "media"
    monkeypatch.setenv("MEDIA_ROOT", str(settings.MEDIA_ROOT))
