"""Both validation engines find the same failing rows, with the same messages, for every rule.

The Otaru warehouse is copied and broken on purpose, one or more rows per rule
(the comment above each change names the rules it breaks). Table constraints are dropped
first so that duplicate keys can be written, as a faulty input format could.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from evaluation.validation import sql_rules, suites
from evaluation.validation.engines import DUCKDB, GREAT_EXPECTATIONS, chosen_engine
from evaluation.validation.findings import finding_for
from evaluation.validation.frames import FRAMES, create_frame, frame_size
from evaluation.validation.rules import RULES, rules_for
from pipelines.resources import SettingInvalid

TABLES = ("strategy", "kpi", "kpi_value", "kpi_score", "published_kpi_score", "published_summary",
          "score_discrepancy")

BREAKS = [
    # kpi_key_unique and kpi_name_unique: 001-1 written twice
    "insert into kpi select * from kpi where kpi_id = '001-1'",
    # direction_known
    "update kpi set direction = 'sideways' where kpi_id = '002-1'",
    # direction_agrees_with_target: ↗ with the target below the baseline
    "update kpi set direction = 'up', baseline_value = 50, target_value = 10 where kpi_id = '003-1'",
    # direction_agrees_with_target: ↘ with the target above the baseline
    "update kpi set direction = 'down', baseline_value = 10, target_value = 50 where kpi_id = '005-1'",
    # passes: ↗ without a baseline value is skipped
    "update kpi set direction = 'up', baseline_value = null where kpi_id = '006-1'",
    # maintain_target_equals_baseline
    "update kpi set direction = 'maintain', baseline_value = 10, target_value = 11 where kpi_id = '007-1'",
    # target_year_in_period and baseline_year_before_target
    "update kpi set target_fiscal_year = 2030, baseline_fiscal_year = 2031 where kpi_id = '008-1'",
    # target_year_in_period and the other in-period rules: a KPI of a strategy that is not there
    "insert into kpi select * replace ('nowhere' as strategy_id) from kpi where kpi_id = '009-1'",
    # kpi_unit_known: a full-width ％ in the KPI's own unit, which no range rule would cover
    "update kpi set unit = '％' where kpi_id = '022-1'",
    # row_read_with_correction
    "update kpi set notes = 'test' where kpi_id = '010-1'",
    # missing_marker_variant (baseline) and unit_known: baseline written with U+2015 and an unknown unit
    "update kpi set baseline_text = '―xyz' where kpi_id = '011-1'",
    # unit_known and unit_consistent on an actual
    "update kpi_value set unit = 'xyz' where kpi_id = '012-1' and fiscal_year = 2019",
    # unit_consistent: a known unit other than the KPI's
    "update kpi_value set unit = '人' where kpi_id = '013-1' and fiscal_year = 2019",
    # unit_missing: a bare number for a KPI with a unit
    "update kpi_value set unit = null where kpi_id = '014-1' and fiscal_year = 2019",
    # percent_in_range
    "update kpi_value set value = 120, unit = '%' where kpi_id = (select min(kpi_id) from kpi where unit = '%')"
    " and fiscal_year = 2019",
    # count_whole and count_not_negative
    "update kpi_value set value = -2.5, unit = '件' where kpi_id = (select min(kpi_id) from kpi where unit = '件')"
    " and fiscal_year = 2019",
    # money_not_negative: a KPI in 万円
    "update kpi set unit = '万円', baseline_text = '100万円' where kpi_id = '015-1'",
    "update kpi_value set value = -1, unit = '万円' where kpi_id = '015-1' and fiscal_year = 2019",
    # cumulative_not_decreasing: a cumulative KPI falling below its baseline
    "update kpi set cumulative = true, baseline_value = 1000 where kpi_id = '016-1'",
    "update kpi_value set value = 1, unit = null where kpi_id = '016-1' and fiscal_year = 2019",
    # actual_year_in_period and cell_key_unique: an actual written twice, outside the period
    "insert into kpi_value select * replace (2040 as fiscal_year) from kpi_value where kpi_id = '017-1'"
    " and fiscal_year = 2019",
    "insert into kpi_value select * replace (2040 as fiscal_year) from kpi_value where kpi_id = '017-1'"
    " and fiscal_year = 2019",
    # published_score_key_unique and published_score_year_in_period
    "insert into published_kpi_score select * replace (2041 as fiscal_year) from published_kpi_score"
    " where kpi_id = '001-1'",
    "insert into published_kpi_score select * replace (2041 as fiscal_year) from published_kpi_score"
    " where kpi_id = '001-1'",
    # published_summary_key_unique and published_summary_year_in_period
    "insert into published_summary select * replace (2042 as fiscal_year) from published_summary"
    " where project_no = 1",
    "insert into published_summary select * replace (2042 as fiscal_year) from published_summary"
    " where project_no = 1",
    # score_finite: a score column of floats holding infinity
    "create or replace table kpi_score as select * replace (raw_score::double as raw_score) from kpi_score",
    "update kpi_score set raw_score = 'inf' where kpi_id = '018-1'",
    # score_denominator_not_zero and score_inputs_present (evaluated); the same reasons pass when excluded
    "update kpi_score set invalid_reason = 'target_is_zero', evaluated = true where kpi_id = '019-1'",
    "update kpi_score set invalid_reason = 'baseline_missing', evaluated = true where kpi_id = '020-1'",
    "update kpi_score set invalid_reason = 'target_missing', evaluated = false where kpi_id = '021-1'",
    # published_figures_agree: a discrepancy with no published text (one side missing fails)
    "insert into score_discrepancy select * replace (null as published_text) from score_discrepancy limit 1",
    # passes: neither side written
    "insert into score_discrepancy select * replace (null as published_text, null as recomputed_text)"
    " from score_discrepancy limit 1",
]


@pytest.fixture(scope="module")
def broken(otaru_warehouse: Path, tmp_path_factory: pytest.TempPathFactory):
    path = tmp_path_factory.mktemp("engines") / "broken.duckdb"
    shutil.copyfile(otaru_warehouse, path)
    with duckdb.connect(str(path)) as connection:
        for table in TABLES:  # without primary keys, so that duplicates can be written
            connection.execute(f"create or replace table {table} as select * from {table}")
        for statement in BREAKS:
            connection.execute(statement)
        yield connection


@pytest.fixture(scope="module")
def both_engines(broken, tmp_path_factory):
    docs = tmp_path_factory.mktemp("docs")
    results = {}
    for frame in FRAMES:
        create_frame(broken, frame)
        rules = rules_for(frame)
        rows, by_sql = sql_rules.failing_rows(broken, frame, rules)
        # the count from the rules' own pass is the count of the view
        assert rows == frame_size(broken, frame), frame
        results[frame] = (suites.failing_rows(broken, frame, rules, "engines-test", docs), by_sql)
    return results


@pytest.mark.parametrize("frame", FRAMES)
def test_engines_find_the_same_rows_and_messages(both_engines, frame):
    by_gx, by_sql = both_engines[frame]
    for rule in rules_for(frame):
        assert [row["row_id"] for row in by_gx[rule.name]] == [row["row_id"] for row in by_sql[rule.name]], rule.name
        assert [finding_for(rule, row).message for row in by_gx[rule.name]] == \
            [finding_for(rule, row).message for row in by_sql[rule.name]], rule.name


def test_every_rule_fails_somewhere(both_engines):
    # each rule was broken on purpose above, so each must report at least one row
    passed = [rule.name for rule in RULES if not both_engines[rule.frame][1][rule.name]]
    assert passed == []


def test_skipped_rows_pass(both_engines):
    by_sql = {name: rows for _, (_, found) in both_engines.items() for name, rows in found.items()}
    # 006-1 is ↗ without a baseline value: skipped, as GX skips a missing value
    assert "otaru-2015 006-1" not in [row["record_key"] for row in by_sql["direction_agrees_with_target"]]
    # 021-1 has no target but is excluded from the evaluation (evaluated false)
    assert not [row for row in by_sql["score_inputs_present"] if row["kpi_id"] == "021-1"]
    # one discrepancy row has neither text: skipped; the one with only the recomputed text fails
    texts = [(row["published_text"], row["recomputed_text"]) for row in by_sql["published_figures_agree"]]
    assert (None, None) not in texts
    assert any(published is None and recomputed for published, recomputed in texts)


def test_messages_name_the_break(both_engines):
    by_sql = both_engines["kpi_cell"][1]
    # the count set to -2.5 件 above, in FY2019 (令和元年度)
    [negative] = by_sql["count_not_negative"]
    assert negative["value_text"] and negative["fiscal_year"] == 2019
    assert "件数(件)は 0 以上です" in finding_for(RULES[[r.name for r in RULES].index("count_not_negative")],
                                               negative).message
    # the baseline written ―xyz: U+2015 HORIZONTAL BAR read as missing
    [variant] = by_sql["missing_marker_variant"]
    assert variant["value_text"] == "―xyz"
    assert "U+2015" in variant["note"]


def test_engine_setting(monkeypatch):
    monkeypatch.delenv("KPI_VALIDATION_ENGINE", raising=False)
    assert chosen_engine() == DUCKDB
    monkeypatch.setenv("KPI_VALIDATION_ENGINE", "great_expectations")
    assert chosen_engine() == GREAT_EXPECTATIONS
    monkeypatch.setenv("KPI_VALIDATION_ENGINE", "pandas")
    with pytest.raises(SettingInvalid, match="KPI_VALIDATION_ENGINE.*pandas"):
        chosen_engine()


def test_frame_sizes(broken):
    # Otaru: 73 KPIs, plus the duplicate of 001-1 and the KPI of the missing strategy
    create_frame(broken, "kpi")
    assert frame_size(broken, "kpi") == 75
    # the DuckDB engine counts the rows in the same pass that finds the failing ones
    assert sql_rules.failing_rows(broken, "kpi", rules_for("kpi"))[0] == 75
