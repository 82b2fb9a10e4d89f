"""The import runs in a real Celery worker: the upload returns at once, the progress page follows the
job until it is done."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from consent.models import Contact, ImportJob
from tests.conftest import wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_upload_is_imported_by_the_worker(operator_client, celery_worker_process):
    rows = "".join(f"+1555444{i:04d},Person {i},opt_in,paper,2025-01-02T03:04:05Z,\n" for i in range(3000))
    content = ("phone,name,consent,channel,consented_at,note\n" + rows + "not-a-phone,X,,,,\n").encode()
    response = operator_client.post(reverse("consent:import_new"),
                                    {"file": SimpleUploadedFile("big.csv", content, "text/csv")})
    job = ImportJob.objects.get()
    assert response.url == reverse("consent:import_detail", args=[job.pk])
    wait_for(lambda: ImportJob.objects.filter(pk=job.pk, status__in=["done", "failed"]).exists(), timeout=60)
    job.refresh_from_db()
    assert (job.status, job.rows_imported, job.rows_invalid) == ("done", 3000, 1)
    assert Contact.objects.filter(consent_state="opted_in").count() == 3000
    page = operator_client.get(reverse("consent:import_detail", args=[job.pk])).content.decode()
    assert '<progress max="100" value="100"' in page and "download the invalid rows" in page
