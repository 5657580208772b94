"""The two intake commands staff run between refreshes: generate a KPI master, write the templates."""

from __future__ import annotations

import logging
from pathlib import Path

from evaluation.intake.formats import load_intake
from evaluation.intake.master import master_from_published, write_master
from evaluation.intake.template import write_templates
from evaluation.problems import InputProblem, InputRejected
from evaluation.published_table import parse_published_table
from evaluation.sources import KPI_MASTER, PUBLISHED_TABLE, decode_text, discover

log = logging.getLogger(__name__)


def generate_master(strategy_dir: Path, output: Path | None, templates_dir: Path) -> Path:
    """Write the KPI master of the strategy in ``strategy_dir`` from its latest published table.

    The file goes to ``output``, else to ``templates_dir``; it is not put in the
    input folder, because strategy.toml's exclusions must move into it first.
    """
    strategies, files = discover(strategy_dir)
    strategy = next((s for s in strategies if s.folder == strategy_dir.resolve() or s.folder == strategy_dir), None)
    if strategy is None:
        raise InputRejected([InputProblem(str(strategy_dir), None, None, "", "このフォルダに strategy.toml がありません",
                                          "the folder has no strategy.toml")])
    tables = []
    for file in files:
        if file.strategy_id == strategy.strategy_id and file.file_format == PUBLISHED_TABLE:
            tables.append(parse_published_table(decode_text(file.path.read_bytes())[0], file.relative_path))
    if not tables:
        raise InputRejected([InputProblem(str(strategy_dir), None, None, "",
                                          "公表評価表がないため KPIマスターを作れません",
                                          "no published table to build the KPI master from")])
    table = max(tables, key=lambda t: (t.last_fiscal_year, t.source_file))
    master = master_from_published(table, strategy)
    path = output or templates_dir / f"{strategy.strategy_id}_KPIマスター.xlsx"
    write_master(master, strategy, path)
    log.info("generated KPI master %s from %s: %d KPIs", path, table.source_file, len(master.kpis))
    return path


def generate_templates(raw_dir: Path, fiscal_year: int, out_dir: Path) -> list[Path]:
    """Write the templates of ``fiscal_year`` for every strategy under ``raw_dir`` that has a KPI master."""
    strategies, files = discover(raw_dir)
    problems: list[InputProblem] = []
    written: list[Path] = []
    for strategy in strategies:
        if not any(f.strategy_id == strategy.strategy_id and f.file_format == KPI_MASTER for f in files):
            log.warning("%s には KPIマスターがないため、様式を作りませんでした / %s has no KPI master; "
                        "no templates written for it", strategy.strategy_id, strategy.strategy_id)
            continue
        if not strategy.first_fiscal_year <= fiscal_year <= strategy.last_fiscal_year:
            problems.append(InputProblem(
                "strategy.toml", None, "last_fiscal_year", str(fiscal_year),
                f"{fiscal_year}年度は {strategy.strategy_id} の計画期間({strategy.first_fiscal_year}〜"
                f"{strategy.last_fiscal_year}年度)の外です。延ばすなら strategy.toml の last_fiscal_year を直してください",
                f"FY{fiscal_year} is outside the period of {strategy.strategy_id}; extend last_fiscal_year"))
            continue
        result = load_intake(strategy, files)
        if result.errors:
            problems.extend(result.errors)
            continue
        written.extend(write_templates(strategy, result.master, result.tables["kpi_value"], fiscal_year, out_dir))
    if problems:
        raise InputRejected(problems)
    if not written:
        raise InputRejected([InputProblem(str(raw_dir), None, None, "",
                                          "KPIマスターのある戦略がありません。先に KPIマスターを入力フォルダに置いてください",
                                          "no strategy has a KPI master; put one in the input folder first")])
    return written

