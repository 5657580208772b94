"""Find the input files under the raw folder and recognize each one by its content.

A folder with a ``strategy.toml`` contains one strategy's files; its subfolders
belong to it unless they have a ``strategy.toml`` of their own. A file is
recognized by what it contains, whatever it is called: a published table by
its header line, an .xlsx workbook or a CSV file as a KPI master or a yearly
submission by its header row. A file that is no known format is an error naming
it; only hidden files and Office lock files (``~$…``) are skipped, and each skip
is logged.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from evaluation.problems import InputProblem, InputRejected
from evaluation.published_table import looks_like_published_table, split_lines
from evaluation.strategy import STRATEGY_FILE_NAME, Strategy, load_strategy

log = logging.getLogger(__name__)

PUBLISHED_TABLE = "published_table"
KPI_MASTER = "kpi_master"
SUBMISSION = "submission"
KPI_REVISION = "kpi_revision"
STRATEGY = "strategy"

_ZIP_MAGIC = b"PK\x03\x04"
_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # legacy .xls and other Office binary files
_PRIVATE_USE = re.compile("[\ue000-\uf8ff]")
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
# Rows of a CSV file made into cells first when recognizing it: a header row and the row below it.
FIRST_ROWS = 3
SUPPORTED_JA = "公表評価表(タブ区切り)、KPIマスター・実績報告(.xlsx か CSV)"
SUPPORTED_EN = "published evaluation table (tab separated), KPI master or submission (.xlsx or CSV)"


@dataclass(frozen=True)
class SourceFile:
    """One input file, the format recognized from its content and its checksum."""

    path: Path
    relative_path: str
    file_format: str
    encoding: str | None
    size_bytes: int
    sha256: str
    strategy_id: str


class EncodingError(ValueError):
    pass


def decode_text(data: bytes) -> tuple[str, str]:
    """Decode as UTF-8 (with or without BOM) or, failing that, CP932; never guess further.

    Each step is strict: a byte sequence invalid in UTF-8 moves on to CP932, and
    one invalid in CP932 too raises ``EncodingError``. CP932 is Windows'
    Shift_JIS, which has ① and 髙 that plain Shift_JIS lacks. UTF-16 (Excel's
    "Unicode text") is rejected with the way out rather than decoded.
    """
    if data.startswith(_UTF16_BOMS):
        raise EncodingError(
            "UTF-16 の文字のファイルには対応していません。Excel で「CSV UTF-8」として保存し直してください / "
            "UTF-16 text is not supported; save the file again as CSV UTF-8"
        )
    if data.startswith(b"\xef\xbb\xbf"):
        try:
            return data[3:].decode("utf-8"), "utf-8-sig"
        except UnicodeDecodeError as error:
            # after a UTF-8 byte order mark the text is not tried as CP932
            raise EncodingError(
                f"UTF-8 の BOM で始まるのに、UTF-8 として読めません(位置 {error.start + 3})。"
                "Excel で「CSV UTF-8」として保存し直してください / "
                f"the file starts with a UTF-8 byte order mark but is not UTF-8 text (byte offset {error.start + 3}); "
                "save it again as CSV UTF-8"
            ) from error
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        text = data.decode("cp932")
    except UnicodeDecodeError as error:
        raise EncodingError(
            f"UTF-8 としても CP932(Shift_JIS) としても読めません(位置 {error.start}) / "
            f"neither UTF-8 nor CP932 (Shift_JIS) text (byte offset {error.start})"
        ) from error
    # Python's CP932 codec maps the user-defined area (外字) and the bytes 0xFD-0xFF
    # to private-use characters instead of failing; such text is not CP932 text.
    private = _PRIVATE_USE.search(text)
    if private:
        raise EncodingError(
            f"CP932 の外字か未定義のバイトがあります(文字位置 {private.start()}) / "
            f"CP932 user-defined or unassigned bytes (character offset {private.start()})"
        )
    return text, "cp932"


def read_text(path: Path) -> str:
    """Read a text input file, decoded as ``decode_text`` decides."""
    text, _ = decode_text(path.read_bytes())
    return text


def _skipped(path: Path) -> bool:
    return path.name.startswith(".") or path.name.startswith("~$")


def recognize(path: Path) -> tuple[str, str | None]:
    """Return (format, encoding) of one data file; raise ``InputRejected`` naming the file otherwise."""
    return _recognize(path, path.read_bytes())


def _recognize(path: Path, data: bytes) -> tuple[str, str | None]:
    """Recognize the file at ``path`` from its content ``data``, read once by the caller."""
    if not data.strip():
        raise InputRejected([InputProblem(path.name, None, None, "", "ファイルが空です", "the file is empty")])
    if data.startswith(_ZIP_MAGIC):
        return _recognize_workbook(path), None
    if data.startswith(_OLE2_MAGIC):
        raise InputRejected([InputProblem(
            path.name, None, None, "", "古い Excel 形式(.xls)には対応していません。.xlsx で保存し直してください",
            "the legacy .xls format is not supported; save the workbook as .xlsx")])
    if b"\x00" in data[:4096] and not data.startswith(_UTF16_BOMS):
        raise InputRejected([InputProblem(
            path.name, None, None, "", f"文字のファイルではありません(バイナリ)。対応する形式: {SUPPORTED_JA}",
            f"not a text file (binary data); supported: {SUPPORTED_EN}")])
    try:
        text, encoding = decode_text(data)
    except EncodingError as error:
        raise InputRejected([InputProblem(path.name, None, None, "", str(error), "unknown text encoding")]) from error
    if looks_like_published_table(text):
        log.info("recognized %s as %s (encoding %s)", path.name, PUBLISHED_TABLE, encoding)
        return PUBLISHED_TABLE, encoding

    from evaluation.intake.formats import format_of_grids
    from evaluation.intake.master import ANCHOR
    from evaluation.intake.sheets import HEADER_SEARCH_ROWS, csv_records, find_header, grid_from_records

    # The header lies in the first HEADER_SEARCH_ROWS rows (and a second header row below the
    # last of them), so the rest of a large file need not become cells to recognize it.
    records = csv_records(text, path.name, HEADER_SEARCH_ROWS + 1)
    # Every format's header search stops at the first row with the anchor label (KPIコード for
    # each) and reads that row and the next. When that row is among the first FIRST_ROWS - 1,
    # the grid of the first FIRST_ROWS rows gives every search the result of the larger grid.
    grid = grid_from_records(records[:FIRST_ROWS], path.name)
    header = find_header(grid, ANCHOR, set())
    if header is None or header.first_row >= FIRST_ROWS:
        grid = grid_from_records(records, path.name)
    file_format = format_of_grids([grid])
    if file_format is not None:
        log.info("recognized %s as %s (CSV, encoding %s)", path.name, file_format, encoding)
        return file_format, encoding
    raise InputRejected([InputProblem(
        path.name, None, None, split_lines(text.strip())[0][:60] if text.strip() else "",
        "どの入力形式でもありません(公表評価表なら「No.」「事業名」「事業概要」「施策KPI」の見出し行、"
        "KPIマスターなら「KPIコード」「方向」「目標値」、実績報告なら「KPIコード」「実績値」「状態」の見出しが必要)",
        "no known input format (a published table needs the header line No. / 事業名 / 事業概要 / 施策KPI; "
        "a KPI master KPIコード / 方向 / 目標値; a submission KPIコード / 実績値 / 状態)",
    )])


def _recognize_workbook(path: Path) -> str:
    """Return the format of an .xlsx workbook from its sheets' header rows."""
    from evaluation.intake.formats import format_of_grids
    from evaluation.intake.sheets import read_workbook

    try:
        grids = read_workbook(path, path.name)
    except InputRejected:
        raise
    except Exception as error:  # openpyxl raises many kinds for a damaged or foreign zip file
        raise InputRejected([InputProblem(
            path.name, None, None, "",
            "Excel ファイル(.xlsx)として開けません。ファイルが壊れているか、Excel のファイルではありません",
            f"cannot open the file as an .xlsx workbook ({type(error).__name__}: {error})")]) from error
    file_format = format_of_grids(grids)
    if file_format is None:
        sheets = ", ".join(g.sheet for g in grids)
        raise InputRejected([InputProblem(
            path.name, None, None, sheets,
            "どのシートにも KPIマスター(KPIコード・方向・目標値)か実績報告(KPIコード・実績値・状態)の見出しがありません",
            "no sheet has the header of a KPI master (KPIコード / 方向 / 目標値) "
            "or a submission (KPIコード / 実績値 / 状態)")])
    log.info("recognized %s as %s (xlsx, sheets %s)", path.name, file_format, ", ".join(g.sheet for g in grids))
    return file_format


def _not_a_regular_file(path: Path, relative: str) -> InputProblem:
    if path.is_symlink() and not path.exists():
        return InputProblem(relative, None, None, "",
                            "リンク先のファイルがありません(壊れたシンボリックリンク)。ファイルそのものを置いてください",
                            "the symbolic link points to a file that does not exist; put the file itself here")
    return InputProblem(relative, None, None, "",
                        "通常のファイルではありません(名前付きパイプなど)。ファイルそのものを置いてください",
                        "not a regular file (a named pipe, socket or device); put the file itself here")


def discover(raw_dir: Path,
             recorded: Mapping[str, SourceFile] | None = None) -> tuple[list[Strategy], list[SourceFile]]:
    """List the strategies and data files under ``raw_dir``; raise listing every problem.

    ``recorded`` maps relative paths to files recognized earlier in the same run (the
    source_file rows). A file found there with the same strategy and size takes its
    format, encoding and SHA-256 from the record instead of being read and recognized
    again. Every other file is recognized, and a file whose content changed after it
    was recorded must be caught by comparing checksums, as kpi_tables does.
    """
    if not raw_dir.is_dir():
        raise InputRejected([InputProblem(str(raw_dir), None, None, "",
                                          "入力フォルダがありません(環境変数 KPI_RAW_DIR で指定します)",
                                          "the input folder does not exist (set KPI_RAW_DIR)")])
    problems: list[InputProblem] = []
    strategies: dict[Path, Strategy] = {}
    invalid_strategy_dirs: set[Path] = set()
    for path in sorted(raw_dir.rglob(STRATEGY_FILE_NAME)):
        try:
            strategies[path.parent] = load_strategy(path, path.relative_to(raw_dir).as_posix())
        except InputRejected as rejected:
            problems.extend(rejected.problems)
            invalid_strategy_dirs.add(path.parent)

    folders_by_id: dict[str, list[str]] = {}
    for folder, strategy in strategies.items():
        folders_by_id.setdefault(strategy.strategy_id, []).append(folder.relative_to(raw_dir).as_posix())
    for strategy_id, folders in sorted(folders_by_id.items()):
        if len(folders) < 2:
            continue
        listed = "、".join(f"{folder}/" for folder in folders)
        problems.append(InputProblem(f"{folders[-1]}/{STRATEGY_FILE_NAME}", None, None, strategy_id,
                                     f"同じ strategy_id が {len(folders)} つのフォルダ({listed})にあります。"
                                     "戦略ごとに別の strategy_id にしてください",
                                     f"{len(folders)} folders ({', '.join(folders)}) declare the same strategy_id; "
                                     "give each strategy its own", key="strategy.strategy_id"))

    files: list[SourceFile] = []
    # Broken links and named pipes are listed too: a department's file behind one must not vanish.
    for path in sorted(p for p in raw_dir.rglob("*") if not p.is_dir()):
        relative = path.relative_to(raw_dir).as_posix()
        if path.name == STRATEGY_FILE_NAME or any(_skipped(p) for p in path.relative_to(raw_dir).parents
                                                  if p != Path(".")) or _skipped(path):
            if _skipped(path):
                log.warning("skipped hidden or lock file %s", relative)
            continue
        if not path.is_file():
            problems.append(_not_a_regular_file(path, relative))
            continue
        owner_dir = next((d for d in [path.parent, *path.parent.parents]
                          if d in strategies or d in invalid_strategy_dirs), None)
        if owner_dir in invalid_strategy_dirs:
            continue  # its strategy.toml is invalid, which is already reported
        owner = strategies.get(owner_dir)
        if owner is None:
            problems.append(InputProblem(relative, None, None, "", f"このファイルのフォルダに {STRATEGY_FILE_NAME} がありません",
                                         f"no {STRATEGY_FILE_NAME} in this file's folder or above"))
            continue
        known = recorded.get(relative) if recorded else None
        if (known is not None and known.strategy_id == owner.strategy_id
                and path.stat().st_size == known.size_bytes):
            files.append(replace(known, path=path))
            continue
        data = path.read_bytes()
        try:
            file_format, encoding = _recognize(path, data)
        except InputRejected as rejected:
            # the reader names the file without its folder; keep the sheet it may add after the name
            problems.extend(
                replace(p, source_file=relative + p.source_file.removeprefix(path.name)) for p in rejected.problems
            )
            continue
        files.append(SourceFile(path, relative, file_format, encoding, len(data),
                                hashlib.sha256(data).hexdigest(), owner.strategy_id))

    if not strategies and not problems:
        problems.append(InputProblem(str(raw_dir), None, None, "", f"{STRATEGY_FILE_NAME} がありません",
                                     f"no {STRATEGY_FILE_NAME} found under the input folder"))
    with_files = {f.strategy_id for f in files}
    for strategy in strategies.values():
        if strategy.strategy_id not in with_files:
            problems.append(InputProblem(strategy.folder.name, None, None, "", "このフォルダにデータのファイルがありません",
                                         "the strategy folder has no data files"))
    if problems:
        raise InputRejected(problems)
    log.info("found %d strategies and %d data files under %s", len(strategies), len(files), raw_dir)
    return list(strategies.values()), files
