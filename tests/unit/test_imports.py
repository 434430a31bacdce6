import subprocess
import sys


def test_cli_import_stays_light() -> None:
    """House rule: `import ragtune` and `ragtune --help` must not pull in torch."""
    code = (
        "import sys, ragtune, ragtune.cli.main, ragtune.project;"
        "from ragtune.builtin_backends import load_builtins; load_builtins();"
        "names = ('torch', 'transformers', 'sentence_transformers');"
        "heavy = [m for m in names if m in sys.modules];"
        "print(heavy); sys.exit(1 if heavy else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
