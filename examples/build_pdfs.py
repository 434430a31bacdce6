"""Build the sample's PDFs from their Markdown sources in ``pdf_src/``.

    python examples/build_pdfs.py          # needs fpdf2 (a dev dependency)

``pdf_src/docs/X.md`` -> ``docs/X.pdf`` and ``pdf_src/v2/X.md`` -> ``v2/X.pdf``. The YAML
front matter goes into the PDF info dictionary (/Title plus one custom key per field), which
is where ragtune's PDF loader reads metadata and access groups from. Section headings are
numbered ("2. Eligibility"), as in a typical policy PDF. Output is deterministic.
"""

from __future__ import annotations

import io
import re
import sys
from datetime import UTC, datetime
from pathlib import Path

import yaml
from fpdf import FPDF
from pypdf import PdfReader, PdfWriter

HERE = Path(__file__).resolve().parent


def render(source: Path, target: Path) -> None:
    text = source.read_text(encoding="utf-8")
    match = re.match(r"\A---\n(.*?)\n---\n", text, re.S)
    meta = yaml.safe_load(match.group(1)) if match else {}
    body = text[match.end() :] if match else text
    pdf = FPDF(format="A4")
    pdf.set_creation_date(datetime(2026, 1, 1, tzinfo=UTC))  # deterministic bytes
    pdf.set_auto_page_break(True, margin=18)
    pdf.add_page()
    section = 0
    for block in re.split(r"\n\s*\n", body.strip()):
        lines = block.strip().splitlines()
        first = lines[0]
        if first.startswith("# "):
            pdf.set_font("Helvetica", "B", 16)
            pdf.multi_cell(0, 9, first[2:].strip(), new_x="LMARGIN", new_y="NEXT")
            pdf.ln(3)
            lines = lines[1:]
        elif first.startswith("## "):
            section += 1
            pdf.set_font("Helvetica", "B", 12)
            pdf.multi_cell(0, 7, f"{section}. {first[3:].strip()}", new_x="LMARGIN", new_y="NEXT")
            pdf.ln(2)
            lines = lines[1:]
        if not lines:
            continue
        pdf.set_font("Helvetica", "", 10.5)
        if all(line.lstrip().startswith(("- ", "* ")) for line in lines):
            for line in lines:
                item = line.lstrip()[2:].strip()
                pdf.multi_cell(0, 5.5, f"- {item}", new_x="LMARGIN", new_y="NEXT")
        else:
            pdf.multi_cell(
                0, 5.5, " ".join(s.strip() for s in lines), new_x="LMARGIN", new_y="NEXT"
            )
        pdf.ln(2.5)
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(bytes(pdf.output()))))
    info = {"/Title": str(meta.get("title", source.stem))}
    for key, value in meta.items():
        if key == "title":
            continue
        if isinstance(value, list):
            value = ",".join(str(v) for v in value)
        info[f"/{key}"] = str(value) if value is not None else ""
    writer.add_metadata(info)
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target, "wb") as fh:
        writer.write(fh)


def main() -> int:
    count = 0
    for version in ("docs", "v2"):
        src_root = HERE / "pdf_src" / version
        for source in sorted(src_root.rglob("*.md")):
            target = HERE / version / source.relative_to(src_root).with_suffix(".pdf")
            render(source, target)
            count += 1
    print(f"built {count} PDFs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
