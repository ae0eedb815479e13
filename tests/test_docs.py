"""Documentation that must stay true to the code."""

from __future__ import annotations

import re
from pathlib import Path

from insights.contract import contract_markdown

ROOT = Path(__file__).resolve().parents[1]


def test_data_contract_tables_are_generated_from_the_contract():
    text = (ROOT / "docs" / "data-contract.md").read_text()
    block = text.split("<!-- generated tables: begin -->\n", 1)[1].split("<!-- generated tables: end -->", 1)[0]
    assert block.strip() == contract_markdown().strip(), "regenerate with contract_markdown()"


def test_readme_quick_start_has_exactly_two_commands_that_the_makefile_and_ci_run():
    readme = (ROOT / "README.md").read_text()
    block = re.search(r"## Quick start\n.*?```sh\n(.*?)```", readme, re.S)
    assert block is not None
    commands = [line for line in block.group(1).splitlines() if line.strip()]
    assert commands == ["make run", "make test"]
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^run: setup$", makefile, re.M) and re.search(r"^test: setup$", makefile, re.M)
    assert "make test" in (ROOT / ".ci" / "run").read_text()


def test_no_committed_notebook_carries_outputs():
    import json

    for nb in [*ROOT.glob("notebooks/**/*.ipynb"), *ROOT.glob("src/**/*.ipynb")]:
        cells = json.loads(nb.read_text()).get("cells", [])
        assert not any(c.get("outputs") for c in cells), nb
