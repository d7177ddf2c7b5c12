"""docs/deployment.md's settings tables and .env.example name every setting the code reads."""

import re

from tests.deploy.conftest import PROJECT

SOURCES = ["platform/config/settings.py", "platform/config/envfile.py", "platform/config/gunicorn.conf.py"]
READ = re.compile(r"""(?:os\.environ\.get|env_bool|env_int|env_float|env_list|_int)\(\s*["']([A-Z][A-Z0-9_]+)["']""")


def names_read() -> set[str]:
    return {name for source in SOURCES for name in READ.findall((PROJECT / source).read_text())}


def test_every_setting_is_in_the_deployment_guide_and_the_example():
    names = names_read()
    assert {"DJANGO_SECRET_KEY", "DATABASE_URL", "DJANGO_ENV_FILE", "PORT", "WEB_CONCURRENCY"} <= names
    guide = (PROJECT / "docs/deployment.md").read_text()
    example = (PROJECT / ".env.example").read_text()
    assert {name for name in names if f"| `{name}` |" not in guide} == set()
    assert {name for name in names if not re.search(rf"^#? ?{name}=", example, flags=re.MULTILINE)} == set()
