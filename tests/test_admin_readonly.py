"""Rows that change only through their pages' services (absences, year ends) are
shown read only in the admin, in the reader's language."""

import pytest
from django.urls import reverse

from conftest import enrol_totp
from tests.access_objects import make_absence, make_fiscal_year_close
from tests.language_check import allowed_from_database, findings

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("lang", ["vi", "en"])
@pytest.mark.parametrize("make", [make_absence, make_fiscal_year_close], ids=["absence", "fiscal_year_close"])
def test_read_only_in_the_admin_in_the_readers_language(world, client, make, lang):
    obj = make(world)
    info = f"{obj._meta.app_label}_{obj._meta.model_name}"
    admin = world.users["tadmin"]
    enrol_totp(admin)
    client.force_login(admin)
    client.cookies["django_language"] = lang
    allowed = allowed_from_database()
    for url in (reverse(f"admin:{info}_changelist"), reverse(f"admin:{info}_change", args=[obj.pk])):
        response = client.get(url, HTTP_ACCEPT_LANGUAGE=lang)
        assert response.status_code == 200, url
        assert findings(response.content.decode(), lang, allowed) == [], url
        assert 'name="_save"' not in response.content.decode()
    assert client.get(reverse(f"admin:{info}_add")).status_code == 403
    before = type(obj).objects.values().get(pk=obj.pk)
    client.post(reverse(f"admin:{info}_change", args=[obj.pk]), {})
    assert type(obj).objects.values().get(pk=obj.pk) == before
