"""The configuration reference and the ACL script are generated from the code; a change to a
Settings class or the topic plan that is not regenerated fails here."""

from pathlib import Path

from deploy import configuration
from deploy.topic_plan import acl_script, grants

DEPLOY = Path(configuration.__file__).parent


def test_the_committed_configuration_reference_is_what_the_settings_classes_say():
    committed = configuration.REFERENCE.read_text()
    assert committed == configuration.reference(), (
        "deploy/CONFIGURATION.md is stale: run `make config-reference`")


def test_every_setting_of_every_program_says_what_it_means():
    assert configuration.undocumented() == []


def test_the_reference_names_each_variable_with_its_default_and_meaning():
    text = configuration.REFERENCE.read_text()
    intake = text.split("## intake")[1].split("\n## ")[0]
    assert "| `MASTER_KEY_FILE` | `var/keys/master.key` | A file holding the master key" in intake
    assert "| `MIGRATE_ON_START` | `true` |" in intake
    notify = text.split("## notify")[1].split("\n## ")[0]
    assert "| `SMTP_PASSWORD` | `(unset)` | *secret*." in notify
    assert "MASTER_KEY" not in notify  # notify never sees personal data, nor its key


def test_the_reference_documents_the_web_app_which_needs_no_kafka_database_or_secret():
    text = configuration.REFERENCE.read_text()
    assert "\n## web\n\n`python -m services.web`" in text
    web = text.split("\n## web\n")[1].split("\n## ")[0]
    for variable in ("ACCOUNTS_URL", "INTAKE_URL", "CASEFILE_URL", "NOTIFY_URL", "COOKIE_SECURE",
                     "TRUSTED_PROXIES", "BEHIND_TLS"):
        assert f"| `{variable}` |" in web, variable
    assert "KAFKA_" not in web and "DATABASE_URL" not in web and "*secret*" not in web


def test_the_reference_is_the_same_in_every_checkout():
    # a default inside the code (the web app's catalogues) is shown relative to the repository
    text = configuration.reference()
    assert str(configuration.ROOT) not in text
    assert "| `TRANSLATIONS_DIR` | `services/web/translations` |" in text


def test_variables_follow_a_settings_env_prefix():
    from deploy.stack import StackSettings

    names = {variable.name for variable in configuration.variables(StackSettings)}
    assert {"STACK_DATA_DIR", "STACK_BROKER", "KAFKA_BOOTSTRAP_SERVERS"} <= names


def test_the_committed_acl_script_is_the_topic_plans():
    committed = (DEPLOY / "kafka" / "acls.sh").read_text()
    assert committed == acl_script(grants()), (
        "deploy/kafka/acls.sh is stale: run `make config-reference`")
