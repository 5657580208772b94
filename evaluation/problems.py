"""Problems found in input files, worded for the planning office staff who fix them.

Every problem names the file, the line (or sheet and cell), the column, the value
found and the rule it breaks, in Japanese first with the English beside it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class InputProblem:
    """One fault in one place of an input file."""

    source_file: str
    line: int | None  # 1-based line, or the spreadsheet row
    column: int | str | None  # 1-based column number, or a column letter / header
    value: str
    rule_ja: str
    rule_en: str
    severity: str = "error"  # "error" stops the run; "warning" is recorded and shown

    @property
    def location_ja(self) -> str:
        parts = [self.source_file]
        if self.line:
            parts.append(f"{self.line}行目")
        if self.column is not None:
            parts.append(f"{self.column}列目" if isinstance(self.column, int) else f"列「{self.column}」")
        return " ".join(parts)

    @property
    def location_en(self) -> str:
        parts = [self.source_file]
        if self.line:
            parts.append(f"line {self.line}")
        if self.column is not None:
            parts.append(f"column {self.column}")
        return ", ".join(parts)

    @property
    def message(self) -> str:
        """The message as shown: Japanese first, then English."""
        return (
            f"{self.location_ja}: 値「{self.value}」: {self.rule_ja} / "
            f"{self.location_en}: value {self.value!r}: {self.rule_en}"
        )


class InputRejected(Exception):
    """Raised when input files break rules; carries every problem found, not only the first."""

    def __init__(self, problems: list[InputProblem]) -> None:
        self.problems = problems
        lines = [p.message for p in problems]
        super().__init__(
            f"入力ファイルに {len(problems)} 件の問題があります / "
            f"{len(problems)} problem(s) in the input files:\n" + "\n".join(lines)
        )
