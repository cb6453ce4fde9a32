"""The key store on both databases: keys are stored wrapped, opened with the master key only,
and destroyed for good by an erasure. Data is fictional."""

from __future__ import annotations

import base64
from uuid import uuid4

import pytest
from sqlalchemy import select

from contracts.keystore import (
    KeyErased,
    KeyStore,
    KeyStoreSettings,
    KeyUnavailable,
    MasterKey,
    MasterKeyMissing,
    case_key,
    make_engine,
    new_master_key_text,
    write_new_master_key,
)

pytestmark = pytest.mark.integration


@pytest.fixture
def master() -> MasterKey:
    return MasterKey(base64.b64decode(new_master_key_text()))


@pytest.fixture
def keys(database_url, master):
    store = KeyStore(make_engine(database_url("keys")), master)
    store.prepare()
    yield store
    store.dispose()


def test_a_key_made_for_a_case_is_stored_wrapped_and_opens_its_fields_later(keys, master):
    case_id = uuid4()
    token = keys.cipher_for_writing(case_id).encrypt("Fictional Person")
    keys.store_made()
    with keys._engine.connect() as connection:
        stored = connection.execute(select(case_key)).one()
    assert stored.master_key_id == master.key_id and len(stored.wrapped_key) == 12 + 32 + 16
    # another service's store on the same database, with the same master key, reads it
    reader = KeyStore(keys._engine, master)
    assert reader.cipher(case_id).decrypt(token) == "Fictional Person"


def test_another_master_key_opens_nothing(keys):
    case_id = uuid4()
    keys.cipher_for_writing(case_id)
    keys.store_made()
    stranger = KeyStore(keys._engine, MasterKey(base64.b64decode(new_master_key_text())))
    with pytest.raises(KeyUnavailable):
        stranger.cipher(case_id)


def test_a_key_never_stored_is_unavailable_and_made_again_for_writing(keys):
    case_id = uuid4()
    keys.cipher_for_writing(case_id)
    keys.forget_made()  # its batch was not committed
    with pytest.raises(KeyUnavailable):
        keys.cipher(case_id)


def test_erasure_destroys_the_key_and_leaves_a_tombstone_every_reader_sees(keys, master):
    case_id, never_keyed = uuid4(), uuid4()
    token = keys.cipher_for_writing(case_id).encrypt("Fictional Person")
    keys.store_made()
    keys.cipher(case_id)  # opened and cached
    keys.erase([case_id, never_keyed])
    keys.erase([case_id])  # again: nothing changes
    with pytest.raises(KeyErased):
        keys.cipher(case_id)
    with pytest.raises(KeyErased):
        KeyStore(keys._engine, master).cipher(case_id)
    with pytest.raises(KeyErased):  # erased is erased, even for writing
        keys.cipher_for_writing(never_keyed)
    assert keys.erased([case_id, never_keyed, uuid4()]) == {case_id, never_keyed}
    with keys._engine.connect() as connection:
        rows = connection.execute(select(case_key.c.wrapped_key)).all()
    assert [row.wrapped_key for row in rows] == [None, None]
    assert token  # the ciphertext outlives its key, and means nothing now


def test_a_reader_that_cached_a_key_sees_the_erasure_once_its_cache_expires(keys, master):
    case_id = uuid4()
    keys.cipher_for_writing(case_id)
    keys.store_made()
    reader = KeyStore(keys._engine, master, cache_seconds=0)
    reader.cipher(case_id)
    keys.erase([case_id])
    with pytest.raises(KeyErased):
        reader.cipher(case_id)


def test_without_a_master_key_a_service_refuses_to_start_saying_what_to_set(tmp_path):
    missing = KeyStoreSettings(master_key_file=tmp_path / "absent.key")
    with pytest.raises(MasterKeyMissing, match="MASTER_KEY_FILE"):
        KeyStore.from_settings(missing)
    (tmp_path / "short.key").write_text(base64.b64encode(b"too short").decode())
    with pytest.raises(MasterKeyMissing, match="32 random bytes"):
        MasterKey.from_settings(KeyStoreSettings(master_key_file=tmp_path / "short.key"))


def test_a_new_master_key_file_is_private_and_never_overwritten(tmp_path):
    path = tmp_path / "keys" / "master.key"
    write_new_master_key(path)
    assert path.stat().st_mode & 0o777 == 0o600
    first = path.read_text()
    with pytest.raises(FileExistsError):
        write_new_master_key(path)
    assert path.read_text() == first
    assert len(MasterKey.from_settings(KeyStoreSettings(master_key_file=path)).key) == 32


def test_two_services_preparing_the_key_store_at_once_both_start(keys, monkeypatch):
    """intake and casefile start side by side: the other may create the table between this
    one's check and its CREATE TABLE."""
    from contracts import keystore

    create_all = keystore.metadata.create_all
    monkeypatch.setattr(keystore.metadata, "create_all",
                        lambda engine, checkfirst=True: create_all(engine, checkfirst=False))
    keys.prepare()  # the table exists already: the CREATE fails, and that is as good
    case_id = uuid4()
    keys.cipher_for_writing(case_id)
    keys.store_made()
    assert keys.cipher(case_id)
