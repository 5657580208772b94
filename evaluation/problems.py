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
    key: str | None = None  # a key of a settings file such as strategy.toml, e.g. "method.rounding"

    @property
    def location_ja(self) -> str:
        parts = [self.source_file]
        if self.line:
            parts.append(f"{self.line}行目")
        if self.column is not None:
            parts.append(f"{self.column}列目" if isinstance(self.column, int) else f"列「{self.column}」")
        if self.key is not None:
            parts.append(f"項目「{self.key}」")
        return " ".join(parts)

    @property
    def location_en(self) -> str:
        parts = [self.source_file]
        if self.line:
            parts.append(f"line {self.line}")
        if self.column is not None:
            parts.append(f"column {self.column}")
        if self.key is not None:
            parts.append(f"key {self.key}")
        return ", ".join(parts)

    @property
    def message(self) -> str:
        """The message as shown: Japanese first, then English; an empty value is left out."""
        value_ja = f"値「{self.value}」: " if self.value else ""
        value_en = f"value {self.value!r}: " if self.value else ""
        return f"{self.location_ja}: {value_ja}{self.rule_ja} / {self.location_en}: {value_en}{self.rule_en}"


class InputRejected(Exception):
    """Raised when input files break rules; carries every problem found, not only the first."""

    def __init__(self, problems: list[InputProblem]) -> None:
        self.problems = problems
        lines = [p.message for p in problems]
        super().__init__(
            f"入力ファイルに {len(problems)} 件の問題があります / "
            f"{len(problems)} problem(s) in the input files:\n" + "\n".join(lines)
        )


class SettingInvalid(ValueError):
    """Raised when an environment variable contains a value the refresh cannot use. The message is bilingual."""
