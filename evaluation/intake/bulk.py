"""Read many submission CSV files at once with DuckDB, by the same rules as the Python reader.

The Python reader (submission.py, merge.py) builds a few objects per cell,
about 100 µs per KPI-year: fine for a city, minutes for a national
collection. This module reads the same files with DuckDB. One regular
expression splits each line into fields, and SQL converts the actual value.
The Python converters themselves convert the low-cardinality columns (年度,
KPIコード, 状態, 修正), once per distinct text.

Same rules and messages: every row the SQL cannot convert with certainty
(a character the SQL fold does not cover, a value that breaks a rule, a
conflict between two values) marks its strategy "unsure", and the caller
reads that strategy again with the Python reader, which writes the message.
So an error always comes from the Python reader, and the bulk path only ever
writes rows the Python reader would write identically
(tests/test_bulk_intake.py compares the two on the same files).

A strategy qualifies when its folder contains one KPI master and submissions,
all as CSV, and no published table or revision file. bulk_master.py reads
the masters the same way, and the Python reader reads the masters it leaves.
"""

from __future__ import annotations

import csv
import io
import logging
import os
from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from evaluation.cells import MISSING_MARKERS, TO_BE_REPORTED_WORDS, UNDETERMINED_WORDS
from evaluation.intake import submission
from evaluation.intake.columns import Column, ColumnError, convert, locate_columns
from evaluation.intake.expected_values import check_expected_values
from evaluation.intake.formats import read_grids
from evaluation.intake.master import KpiMaster, expected_value_rows, kpi_rows, read_master
from evaluation.intake.merge import NO_DEPARTMENT, Candidate, IntakeResult, _resolve
from evaluation.intake.revisions import read_revisions, revision_rows
from evaluation.intake.sheets import Cell, Grid, Header, find_header
from evaluation.problems import InputRejected, SettingInvalid
from evaluation.sources import KPI_MASTER, KPI_REVISION, PUBLISHED_TABLE, SUBMISSION, SourceFile
from evaluation.strategy import Strategy

if TYPE_CHECKING:
    import duckdb

log = logging.getLogger(__name__)

# Below this many bytes of qualifying files the Python reader is used: it is
# as fast there, and the bulk path's fixed cost (a few queries) is not paid.
# KPI_BULK_MIN_BYTES overrides it (tests set 0 to force the bulk path).
BULK_MIN_BYTES = 4 * 2**20
HEADER_LINES = 3  # lines given to find_header: a one-row header and the two rows it inspects below
# Characters of decoded CP932 text that Python keeps before inserting them into DuckDB.
DECODED_BATCH_CHARACTERS = 16 * 2**20
INSERT_CHUNK_ROWS = 1_000_000  # rows per insert into a normalized table (see insert_in_chunks)
# str.strip() removes these (str.isspace); SQL trim() removes only the space.
PYTHON_WHITESPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680" + "".join(chr(c) for c in range(0x2000, 0x200B))
    + "\u2028\u2029\u202f\u205f\u3000"
)
# Characters a value cell may hold for the SQL fold below to equal NFKC: ASCII
# digits, signs and letters, their full-width forms that NFKC maps to ASCII,
# the missing markers, kanji, hiragana and katakana (all NFKC-stable in these ranges).
VALUE_CHARACTERS = (
    "0-9A-Za-z,.%+()\\- "
    "\uff10-\uff19\uff0c\uff0e\uff05\uff0b\uff08\uff09\uff0d"
    "\u2212\u25b2\u25b3\u2014\u2015\u30fc"
    "\u4e00-\u9fff\u3041-\u3096\u30a1-\u30fa"
)
FULL_WIDTH = "０１２３４５６７８９，．％＋（）－"
FOLDED = "0123456789,.%+()-"
NUMBER_PATTERN = r"^([+-]?)([0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.([0-9]+))?\s*([^0-9\s.,+\-][^0-9]*)?$"
# One CSV field: quoted (with "" inside) or unquoted, followed by a comma or the end.
FIELD_PATTERN = r'("(?:[^"]|"")*"|[^,]*)(,|$)'


@dataclass
class BulkResult:
    """The bulk path's row counts, and the strategies it left to the Python reader."""

    strategy_ids: list[str] = field(default_factory=list)
    unsure: set[str] = field(default_factory=set)
    counts: dict[str, int] = field(default_factory=dict)


def insert_rows(connection: duckdb.DuckDBPyConnection, table: str, rows: list[tuple]) -> None:
    """Insert rows into a temporary table in one statement: one list parameter per column, unnested.

    executemany runs one statement per row, which costs seconds at 10^5 rows.
    """
    if not rows:
        return
    columns = list(zip(*rows, strict=True))
    selects = ", ".join(f"unnest(${number})" for number in range(1, len(columns) + 1))
    connection.execute(f"insert into {table} select {selects}", [list(column) for column in columns])


def insert_in_chunks(connection: duckdb.DuckDBPyConnection, table: str, source: str, strategy_ids: list[str]) -> int:
    """Insert the rows of ``strategy_ids`` from temporary table ``source`` into ``table``; return the count.

    DuckDB 2.0.1 keeps the primary-key index entries an insert adds in memory
    until a checkpoint writes them, and under DuckDB's memory limit
    (evaluation.warehouse.DEFAULT_MEMORY_LIMIT) one insert of
    1.7 x 10^7 kpi_value_history rows ran out of memory. So the rows go in
    chunks of whole strategies of about INSERT_CHUNK_ROWS rows, each chunk
    followed by a checkpoint.
    """
    sizes = connection.execute(f"select strategy_id, count(*) from {source} where strategy_id in (select unnest(?)) "
                               "group by strategy_id order by strategy_id", [strategy_ids]).fetchall()
    chunks: list[list[str]] = [[]]
    rows = 0
    for strategy_id, count in sizes:
        if rows and rows + count > INSERT_CHUNK_ROWS:
            chunks.append([])
            rows = 0
        chunks[-1].append(strategy_id)
        rows += count
    inserted = 0
    for chunk in chunks:
        if not chunk:
            continue
        inserted += connection.execute(f"insert into {table} by name select * from {source} "
                                       "where strategy_id in (select unnest(?))", [chunk]).fetchone()[0]
        connection.execute("checkpoint")
    return inserted


def qualifying_strategies(strategies: list[Strategy], files: list[SourceFile]) -> list[Strategy]:
    """Return the strategies whose inputs are one master CSV and submission CSVs, and nothing else."""
    by_strategy: dict[str, list[SourceFile]] = defaultdict(list)
    for file in files:
        by_strategy[file.strategy_id].append(file)
    chosen = []
    for strategy in strategies:
        own = by_strategy.get(strategy.strategy_id, [])
        formats = [f.file_format for f in own]
        if (formats.count(KPI_MASTER) == 1 and SUBMISSION in formats and PUBLISHED_TABLE not in formats
                and KPI_REVISION not in formats and all(f.encoding is not None for f in own)
                and not strategy.exclusions):
            chosen.append(strategy)
    return chosen


def bulk_min_bytes() -> int:
    """Return the size of qualifying CSV files from which the bulk reader is used: KPI_BULK_MIN_BYTES, else 4 MiB."""
    setting = os.environ.get("KPI_BULK_MIN_BYTES", "").strip()
    if not setting:
        return BULK_MIN_BYTES
    if not setting.isascii() or not setting.isdigit():
        raise SettingInvalid(
            f"環境変数 KPI_BULK_MIN_BYTES の値「{setting}」はバイト数(0 以上の整数、例: 4194304)ではありません"
            f" / KPI_BULK_MIN_BYTES={setting!r} is not a byte count (a whole number of 0 or more, e.g. 4194304)"
        )
    return int(setting)


def bulk_strategies(strategies: list[Strategy], files: list[SourceFile]) -> list[Strategy]:
    """Return the strategies to read in bulk: the qualifying ones, when their files reach the size threshold."""
    chosen = qualifying_strategies(strategies, files)
    ids = {s.strategy_id for s in chosen}
    size = sum(f.size_bytes for f in files if f.strategy_id in ids)
    threshold = bulk_min_bytes()
    if not chosen or size < threshold:
        return []
    log.info("reading %d strategies (%d bytes of CSV) in bulk with DuckDB", len(chosen), size)
    return chosen


def read_masters(strategies: list[Strategy], files: list[SourceFile]) -> dict[str, KpiMaster]:
    """Read each strategy's master with the Python reader, and check it as load_intake does.

    A master with any problem, a warning included, is left out, so that its
    strategy is read again by load_intake, which reports the problem.
    """
    by_strategy = {s.strategy_id: s for s in strategies}
    masters = {}
    for file in files:
        strategy = by_strategy.get(file.strategy_id)
        if strategy is None or file.file_format != KPI_MASTER:
            continue
        try:
            master = read_master(read_grids(file), strategy)
        except InputRejected:
            continue
        if not check_expected_values(strategy, master):
            masters[strategy.strategy_id] = master
    return masters


def master_tables(strategy: Strategy, master: KpiMaster) -> dict[str, list[dict]] | None:
    """Return the kpi, kpi_revision and kpi_expected_value rows of a bulk strategy, as load_intake builds them.

    A CSV master has no revision sheet, so its revisions are empty; None when
    building them finds a problem (load_intake then reads the strategy).
    """
    revisions, problems = read_revisions([], master)
    rows, row_problems = revision_rows(revisions, master, strategy)
    if problems or row_problems:
        return None
    return {
        "kpi": kpi_rows(master, strategy.strategy_id),
        "kpi_revision": rows,
        "kpi_expected_value": expected_value_rows(master, strategy.strategy_id),
    }


def missing_submissions(connection: duckdb.DuckDBPyConnection) -> list[tuple]:
    """Return (strategy_id, fiscal_year, department, KPI count, missing KPI codes) from bulk_submission_status."""
    return connection.execute("""
        select
            strategy_id,
            fiscal_year,
            department,
            count(*),
            list(kpi_id order by kpi_id) filter (where submission_state = 'missing')
        from bulk_submission_status
        group by all
        order by all
    """).fetchall()


def _whitespace_class() -> str:
    """Return PYTHON_WHITESPACE escaped for use inside a regular-expression class."""
    return PYTHON_WHITESPACE.replace("\\", "\\\\").replace("]", "\\]").replace("-", "\\-")


def _strip_sql(expression: str) -> str:
    """SQL for Python's str.strip() of ``expression``."""
    characters = _whitespace_class()
    return f"regexp_replace({expression}, '^[{characters}]+|[{characters}]+$', '', 'g')"


def one_row_header(file: SourceFile, text_head: str, columns: tuple[Column, ...],
                   anchor: str) -> tuple[Grid, Header] | None:
    """Return the grid of a file's first lines and its header when that header is the first row alone, else None."""
    grid = Grid(file.relative_path, file.relative_path, None)
    for row_no, values in enumerate(csv.reader(io.StringIO(text_head, newline="")), start=1):
        for column, value in enumerate(values, start=1):
            if value.strip():
                grid.rows.setdefault(row_no, {})[column] = Cell(value)
    header = find_header(grid, anchor, {label for c in columns for label in c.labels})
    if header is None or header.first_row != 1 or header.last_row != 1:
        return None
    return grid, header


def _header_positions(file: SourceFile, text_head: str) -> dict[str, int] | None:
    """Return the submission columns' positions when the header is the file's first row, else None."""
    found = one_row_header(file, text_head, submission.COLUMNS, submission.ANCHOR)
    if found is None:
        return None
    positions, problems = locate_columns(*found, submission.COLUMNS)
    return None if problems else positions


def head_lines(data: bytes, encoding: str) -> str:
    """Return the first HEADER_LINES lines of a file's content, decoded."""
    codec = "utf-8-sig" if encoding == "utf-8-sig" else encoding
    text = data[: 64 * 1024].decode(codec, errors="ignore")
    return "\n".join(text.split("\n")[:HEADER_LINES])


def stage_lines(connection: duckdb.DuckDBPyConnection, strategies: list[Strategy],
                files: list[SourceFile], result: BulkResult) -> None:
    """Create the temporary table bulk_field: one row per data line of every qualifying submission file."""
    ids = {s.strategy_id for s in strategies}
    layouts, chosen = [], []
    for file in files:
        if file.strategy_id not in ids or file.file_format != SUBMISSION:
            continue
        positions = _header_positions(file, head_lines(file.path.read_bytes(), file.encoding))
        if positions is None:
            result.unsure.add(file.strategy_id)
            continue
        layouts.append((str(file.path), file.relative_path, file.strategy_id,
                        *(positions.get(c.name) for c in submission.COLUMNS)))
        chosen.append(file)

    names = ", ".join(f"{c.name}_position integer" for c in submission.COLUMNS)
    connection.execute(f"create or replace temp table bulk_layout (path varchar, source_file varchar, "
                       f"strategy_id varchar, {names})")
    insert_rows(connection, "bulk_layout", layouts)
    stage_contents(connection, "bulk_content", chosen)
    result.unsure.update(files_beyond_split(connection, "bulk_content", "bulk_layout"))
    stage_fields(connection)
    connection.execute("drop table bulk_content")


def stage_contents(connection: duckdb.DuckDBPyConnection, table: str, files: list[SourceFile]) -> None:
    """Create the temporary table ``table`` (path, content) with the text of each file.

    DuckDB reads UTF-8 files itself. CP932 files are decoded by Python and inserted
    DECODED_BATCH_CHARACTERS at a time, so that Python keeps one batch in memory, not every file.
    """
    connection.execute(f"create or replace temp table {table} (path varchar, content varchar)")
    utf8_paths = [str(f.path) for f in files if f.encoding in ("utf-8", "utf-8-sig")]
    if utf8_paths:
        connection.execute(f"insert into {table} select filename, content from read_text(?)", [utf8_paths])
    decoded: list[tuple[str, str]] = []
    characters = 0
    for file in files:
        if file.encoding in ("utf-8", "utf-8-sig"):
            continue
        text = file.path.read_bytes().decode(file.encoding)
        decoded.append((str(file.path), text))
        characters += len(text)
        if characters >= DECODED_BATCH_CHARACTERS:
            insert_rows(connection, table, decoded)
            decoded, characters = [], 0
    insert_rows(connection, table, decoded)


def files_beyond_split(connection: duckdb.DuckDBPyConnection, content: str, layout: str) -> set[str]:
    """Return the strategies with a file whose records Python's csv module would not end at each LF.

    The csv module also ends a record at a lone CR, as in a file saved with CR
    line ends or a line with one CR. A quote left open in the header line
    carries the header record on into the next line. The split into lines
    below would then number, or read, the lines differently, so these
    strategies go to the Python reader. ``lines_beyond_split`` checks the
    data lines one by one, and this check covers the header line and files
    with no LF at all.
    """
    return {row[0] for row in connection.execute(f"""
        select distinct {layout}.strategy_id
        from {content}
        join {layout} using (path)
        where regexp_matches({content}.content, '\\r([^\\n]|$)')  -- a CR not followed by an LF
            or contains(split_part({content}.content, chr(10), 1), '"')
    """).fetchall()}


def lines_beyond_split(connection: duckdb.DuckDBPyConnection, fields: str) -> set[str]:
    """Return the strategies with a line whose quoting, CR or length the split cannot read as Python's csv module.

    Blank lines and note lines are left out of the rows later, so their
    ``bad_quoting`` must be read here, before that filter.
    """
    return {row[0] for row in connection.execute(
        f"select distinct strategy_id from {fields} where bad_quoting").fetchall()}


def _field(name: str) -> str:
    """SQL for one field of a parsed line, unquoted as Python's csv reader unquotes it."""
    raw = f"list_extract(fields, {name}_position)"
    return (f"case when {raw} like '\"%' then replace({raw}[2:-2], '\"\"', '\"') else {raw} end")


def _convert_distinct(connection: duckdb.DuckDBPyConnection, column_name: str) -> None:
    """Convert each distinct text of a column with the Python converter; store (text, value, ok)."""
    column = next(c for c in submission.COLUMNS if c.name == column_name)
    texts = [row[0] for row in connection.execute(
        f"select distinct {column_name}_text from bulk_field where {column_name}_text is not null").fetchall()]
    converted = []
    for text in texts:
        try:
            converted.append((text, str(convert(Cell(text), column)), True))
        except ColumnError:
            converted.append((text, None, False))
    connection.execute(f"create or replace temp table bulk_{column_name} (text varchar, value varchar, ok boolean)")
    insert_rows(connection, f"bulk_{column_name}", converted)


def fields_query(layout: str, content: str, selected: str) -> str:
    """SQL of one row per data line (below the first) of the files in ``content``, split into fields.

    Each row has the file's ``layout`` row (path, source_file, strategy_id and column
    positions), its line number, whether its quoting, a CR or its length is beyond the
    split (``bad_quoting``), the count of filled fields, the first filled field, and the
    columns in ``selected``, which may use ``fields`` (the line's fields) and the layout's
    positions. One statement goes
    from file contents to fields, so that no table of whole lines or field lists is kept.
    """
    return f"""
        with cleaned as (
            -- a UTF-8 byte order mark, read as U+FEFF, only at the start of a file
            select path, case when starts_with(content, chr(65279)) then content[2:] else content end as content
            from {content}
        ),
        split as (
            select
                path,
                unnest(string_split(content, chr(10))) as line,
                unnest(generate_series(1, len(string_split(content, chr(10))))) as line_no
            from cleaned
        ),
        lines as (
            -- the data lines of each file, with its layout, without the CR of a CRLF line end
            select
                {layout}.*,
                split.line_no,
                case when suffix(split.line, chr(13)) then split.line[:-2] else split.line end as line
            from split
            join {layout} using (path)
            where split.line_no > 1
        ),
        parsed as (
            -- without a quote the fields are the text between commas; the regular expression
            -- also gives an empty field after the last, which no column position reaches
            select
                *,
                case when contains(line, '"') then regexp_extract_all(line, '{FIELD_PATTERN}', 1)
                     else string_split(line, ',') end as fields
            from lines
        ),
        filled as (
            -- a field is filled when str.strip() leaves something: it has a character other than whitespace
            select *, list_filter(fields, lambda f: regexp_matches(f, '[^{_whitespace_class()}]')) as filled
            from parsed
        )
        select
            strategy_id,
            source_file,
            line_no,
            line like '%' || chr(13) || '%' or length(line) > {csv.field_size_limit()} or (contains(line, '"') and (
                (length(line) - length(replace(line, '"', ''))) % 2 = 1
                or list_bool_or([f like '%"%' and not regexp_full_match(f, '"(?:[^"]|"")*"') for f in fields])))
                as bad_quoting,
            len(filled) as filled_count,
            filled[1] as first_filled,
            {selected}
        from filled
    """


def stripped_field_sql(name: str) -> str:
    """SQL of a column's field as the Python reader keeps text: unquoted and stripped, NULL when blank."""
    return f"nullif({_strip_sql(_field(name))}, '')"


def raw_field_sql(name: str) -> str:
    """SQL of a column's field as the CSV cell of the Python reader: unquoted, not stripped, NULL when blank."""
    return f"case when {_strip_sql(_field(name))} <> '' then {_field(name)} end"


def stage_fields(connection: duckdb.DuckDBPyConnection) -> None:
    """Create bulk_field: the stripped fields of each data line, with its blank-row, note and quoting facts."""
    columns = ",\n".join(f"{stripped_field_sql(c.name)} as {c.name}_text" for c in submission.COLUMNS)
    connection.execute("create or replace temp table bulk_field as "
                       + fields_query("bulk_layout", "bulk_content", f"actual_position, {columns}"))
    for name in ("fiscal_year", "kpi_id", "status", "correction"):
        _convert_distinct(connection, name)


def _marker_sql() -> tuple[str, list]:
    """SQL values of the missing markers with the note Python writes for each."""
    rows = []
    for mark, name in MISSING_MARKERS.items():
        code = f"U+{ord(mark):04X}"
        note = None if mark == "\u2014" else f"欠測の記号に {code} を使用 / missing marker {code} {name}"
        rows.append((mark, note))
    return "select * from (values " + ", ".join("(?, ?)" for _ in rows) + ") as marker(mark, note)", \
        [value for row in rows for value in row]


def stage_master(connection: duckdb.DuckDBPyConnection, master_kpis: list[dict],
                 sql_periods: dict[str, tuple[int, int]]) -> None:
    """Create bulk_master: the KPIs of the Python reader's masters and of the bulk_kpi rows of ``sql_periods``."""
    connection.execute("create or replace temp table bulk_master (strategy_id varchar, kpi_id varchar, unit varchar, "
                       "department varchar, kpi_name varchar, first_fiscal_year integer, last_fiscal_year integer)")
    insert_rows(connection, "bulk_master", [
        (k["strategy_id"], k["kpi_id"], k["unit"], k["department"], k["kpi_name"], k["first_fiscal_year"],
         k["last_fiscal_year"]) for k in master_kpis])
    if sql_periods:
        ids = sorted(sql_periods)
        connection.execute("""
            insert into bulk_master
            select strategy_id, kpi_id, unit, department, kpi_name, first_fiscal_year, last_fiscal_year
            from bulk_kpi
            join (select unnest(?) as strategy_id, unnest(?) as first_fiscal_year, unnest(?) as last_fiscal_year)
                using (strategy_id)
        """, [ids, [sql_periods[i][0] for i in ids], [sql_periods[i][1] for i in ids]])


def stage_values(connection: duckdb.DuckDBPyConnection) -> None:
    """Create bulk_value: one converted row per filled data line, with its unsure flag."""
    marker_query, marker_values = _marker_sql()
    words = [f"({w})" for w in UNDETERMINED_WORDS] + list(UNDETERMINED_WORDS)
    later = [f"({w})" for w in TO_BE_REPORTED_WORDS] + list(TO_BE_REPORTED_WORDS)
    connection.execute(f"""
        create or replace temp table bulk_value as
        with markers as ({marker_query}),
        rows as (
            select
                bulk_field.*,
                fiscal_year.value::integer as fiscal_year,
                kpi_id.value as kpi_id,
                status.value as report_status,
                correction.value = 'True' as is_correction,
                coalesce(fiscal_year.ok, true) and coalesce(kpi_id.ok, true) and coalesce(status.ok, true)
                    and coalesce(correction.ok, true) as converted,
                actual_text is null and status_text is null and comment_text is null and submitted_by_text is null
                    and coalesce(correction.value, 'False') = 'False' and correction_reason_text is null as blank_input,
                -- the value cell folded as NFKC folds these characters, a leading minus sign made "-"
                trim(translate(actual_text, ?, ?), ' ') as folded_start
            from bulk_field
            left join bulk_fiscal_year as fiscal_year on fiscal_year.text = fiscal_year_text
            left join bulk_kpi_id as kpi_id on kpi_id.text = kpi_id_text
            left join bulk_status as status on status.text = status_text
            left join bulk_correction as correction on correction.text = correction_text
            where filled_count > 0
                and not (filled_count = 1 and regexp_matches(trim(translate(first_filled, '＊（', '*(')),
                                                            '^(※|注|\\(注|備考|\\*)'))
        ),
        folded as (
            select
                *,
                case when length(folded_start) > 1 and left(folded_start, 1) in ('−', '▲', '△')
                     then '-' || folded_start[2:] else folded_start end as folded
            from rows
        ),
        classified as (
            select
                folded.*,
                actual_text is not null and not regexp_full_match(actual_text, '[{VALUE_CHARACTERS}]*')
                    as odd_characters,
                case
                    when actual_text is null then null
                    when list_contains(?, left(folded, 1)) and not regexp_matches(folded[2:2], '^[0-9]')
                        then 'missing'
                    when len(list_filter(?, lambda word: starts_with(folded, word))) > 0 then 'undetermined'
                    when len(list_filter(?, lambda word: starts_with(folded, word))) > 0 then 'to_be_reported'
                    when regexp_matches(folded, '{NUMBER_PATTERN}') then 'reported'
                end as cell_status,
                regexp_extract(folded, '{NUMBER_PATTERN}', ['sign', 'integer', 'fraction', 'unit']) as number,
                -- the note names the mark as written (－ U+FF0D), not as folded (-)
                markers.note as marker_note,
                list_filter(?, lambda word: starts_with(folded, word))[1] as marker_word
            from folded
            left join markers on markers.mark = left(actual_text, 1)
        )
        select
            classified.*,
            case cell_status
                when 'reported' then nullif(trim(number.unit, ' '), '')
                when 'missing' then nullif(trim(folded[2:], ' '), '')
                when 'undetermined' then nullif(trim(folded[length(marker_word) + 1:], ' '), '')
                when 'to_be_reported' then nullif(trim(folded[length(marker_word) + 1:], ' '), '')
            end as unit,
            case when cell_status = 'reported'
                 then (number.sign || replace(number.integer, ',', '') || '.'
                       || coalesce(nullif(number.fraction, ''), '0'))
                      ::decimal(18, 6) end as value,
            case when cell_status = 'missing' and left(actual_text, 1) <> '—' then marker_note end as note,
            bulk_master.unit as kpi_unit,
            bulk_master.department as master_department,
            bulk_master.first_fiscal_year,
            bulk_master.last_fiscal_year,
            bulk_master.kpi_id is not null as known
        from classified
        left join bulk_master using (strategy_id, kpi_id)
    """, [*marker_values, FULL_WIDTH, FOLDED, list(MISSING_MARKERS), words, later, words + later])


# Lines whose quoting, CR or length the split cannot read are handed back by lines_beyond_split,
# blank and note lines included, so bad_quoting is not repeated here.
UNSURE_SQL = """
    not converted
    or odd_characters
    or (not blank_input and (
        fiscal_year is null or kpi_id is null or report_status is null
        or (actual_text is not null and cell_status is null)
        or length(coalesce(number.fraction, '')) > 6
        or length(ltrim(replace(coalesce(number.integer, ''), ',', ''), '0')) > 12
        or (report_status in ('confirmed', 'provisional') and value is null)
        or (report_status not in ('confirmed', 'provisional') and value is not null)
        or (is_correction and correction_reason_text is null)
        or (correction_reason_text is not null and not coalesce(is_correction, false))
        or not known
        or fiscal_year not between first_fiscal_year and last_fiscal_year
        or (department_text is not null and master_department is not null and department_text <> master_department)
        or (unit is not null and unit is distinct from kpi_unit)
    ))
"""

VALUE_TEXT_SQL = """
    coalesce(actual_text, case report_status when 'undetermined' then '未確定'
                                             when 'to_be_reported' then '(後日報告)' else '—' end)
"""


def stage_candidates(connection: duckdb.DuckDBPyConnection, result: BulkResult) -> None:
    """Mark unsure strategies; create bulk_candidate, the filled rows in the Python reader's order."""
    unsure = connection.execute(f"select distinct strategy_id from bulk_value where {UNSURE_SQL}").fetchall()
    result.unsure.update(row[0] for row in unsure)
    connection.execute(f"""
        create or replace temp table bulk_candidate as
        select
            strategy_id,
            kpi_id,
            fiscal_year,
            value,
            unit,
            -- as the Python reader: the status column decides, not the cell (未確定 with — is undetermined)
            case when report_status in ('confirmed', 'provisional') then 'reported' else report_status end
                as value_status,
            {VALUE_TEXT_SQL} as value_text,
            source_file,
            line_no as source_line,
            actual_position as source_column,
            note,
            null::varchar as source_sheet,
            report_status,
            comment_text as comment,
            submitted_by_text as submitted_by,
            coalesce(is_correction, false) as is_correction,
            correction_reason_text as correction_reason,
            source_file || ' ' || line_no || '行目 ' || actual_position || '列目' as source_cell,
            row_number() over (partition by strategy_id order by source_file, line_no) as candidate_order,
            count(*) over (partition by strategy_id, kpi_id, fiscal_year) as candidates
        from bulk_value
        where not blank_input and strategy_id not in (select unnest(?))
    """, [sorted(result.unsure)])


KPI_VALUE_SELECT = """
    strategy_id, kpi_id, fiscal_year, value, unit, value_status, value_text, source_file, source_line,
    source_column, note, source_sheet, report_status, comment, submitted_by, is_correction, correction_reason
"""


def resolve_groups(connection: duckdb.DuckDBPyConnection, result: BulkResult) -> None:
    """Resolve KPI-years with several values by merge._resolve; create bulk_kpi_value and bulk_kpi_value_history."""
    columns = [c.strip() for c in KPI_VALUE_SELECT.split(",")]
    rows = connection.execute(f"select {KPI_VALUE_SELECT}, source_cell, candidate_order from bulk_candidate "
                              "where candidates > 1 order by strategy_id, kpi_id, fiscal_year, candidate_order"
                              ).fetchall()
    groups: dict[tuple, list[Candidate]] = defaultdict(list)
    for row in rows:
        record = dict(zip(columns, row[:-2], strict=True))
        if record["value"] is not None:
            record["value"] = format(record["value"].normalize(), "f")
        groups[(record["strategy_id"], record["kpi_id"], record["fiscal_year"])].append(
            Candidate(record, row[-2], row[-1]))
    merged = IntakeResult()
    for (strategy_id, kpi_id, fiscal_year), group in groups.items():
        if strategy_id in result.unsure:
            continue
        before = len(merged.problems)
        _resolve(strategy_id, kpi_id, fiscal_year, group, merged)
        if len(merged.problems) > before:
            result.unsure.add(strategy_id)

    connection.execute(f"""
        create or replace temp table bulk_kpi_value_history as
        select
            {KPI_VALUE_SELECT},
            1 as revision,
            true as is_current,
            'only' as resolution,
            source_cell
        from bulk_candidate
        where candidates = 1
    """)
    history = [r for r in merged.tables["kpi_value_history"] if r["strategy_id"] not in result.unsure]
    if history:
        names = [*columns, "revision", "is_current", "resolution", "source_cell"]
        insert_rows(connection, "bulk_kpi_value_history", [tuple(r[n] for n in names) for r in history])
    connection.execute(f"""
        create or replace temp table bulk_kpi_value as
        select {KPI_VALUE_SELECT} from bulk_kpi_value_history where is_current
    """)
    for table in ("bulk_kpi_value", "bulk_kpi_value_history"):
        connection.execute(f"delete from {table} where strategy_id in (select unnest(?))", [sorted(result.unsure)])


def stage_submission_status(connection: duckdb.DuckDBPyConnection, result: BulkResult) -> None:
    """Create bulk_submission_status: each master KPI in each fiscal year the files name."""
    connection.execute("""
        create or replace temp table bulk_submission_status as
        with years as (
            select distinct strategy_id, fiscal_year
            from bulk_value
            where fiscal_year is not null and strategy_id not in (select unnest(?))
        )
        select
            years.strategy_id,
            years.fiscal_year,
            coalesce(bulk_master.department, ?) as department,
            bulk_master.kpi_id,
            bulk_master.kpi_name,
            coalesce(bulk_kpi_value.report_status, 'missing') as submission_state,
            bulk_kpi_value.source_file,
            bulk_kpi_value.source_line
        from years
        join bulk_master using (strategy_id)
        left join bulk_kpi_value using (strategy_id, kpi_id, fiscal_year)
    """, [sorted(result.unsure), NO_DEPARTMENT])


def load_bulk(connection: duckdb.DuckDBPyConnection, strategies: list[Strategy], files: list[SourceFile],
              masters: dict[str, KpiMaster], sql_masters: frozenset[str] | set[str] = frozenset()) -> BulkResult:
    """Read the submissions of strategies whose masters were read; leave the results in temporary tables.

    ``masters`` are the masters the Python reader read. ``sql_masters`` are the
    ids of strategies whose master bulk_master.read_masters left in bulk_kpi.
    The tables are bulk_kpi_value, bulk_kpi_value_history and
    bulk_submission_status. Strategies in ``result.unsure`` have no rows there
    and must be read by the Python reader.
    """
    chosen = [s for s in strategies if s.strategy_id in masters or s.strategy_id in sql_masters]
    result = BulkResult(strategy_ids=[s.strategy_id for s in chosen])
    periods = {s.strategy_id: (s.first_fiscal_year, s.last_fiscal_year) for s in chosen}
    master_kpis = [
        {**row, "first_fiscal_year": periods[strategy_id][0], "last_fiscal_year": periods[strategy_id][1]}
        for strategy_id, master in masters.items()
        for row in kpi_rows(master, strategy_id)
    ]
    stage_lines(connection, chosen, files, result)
    stage_master(connection, master_kpis, {i: periods[i] for i in sql_masters if i in periods})
    stage_values(connection)
    result.unsure.update(lines_beyond_split(connection, "bulk_field"))
    connection.execute("drop table bulk_field")
    stage_candidates(connection, result)
    resolve_groups(connection, result)
    stage_submission_status(connection, result)
    for table in ("kpi_value", "kpi_value_history", "submission_status"):
        result.counts[table] = connection.execute(f"select count(*) from bulk_{table}").fetchone()[0]
    log.info("bulk read of %d strategies: %s; %d left to the Python reader", len(chosen) - len(result.unsure),
             ", ".join(f"{count} rows of {table}" for table, count in result.counts.items()), len(result.unsure))
    return result
