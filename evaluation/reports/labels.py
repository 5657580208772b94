"""Japanese headers for the columns the reports show, by the English column name of the tables."""

from __future__ import annotations

COLUMN_LABELS_JA = {
    # keys and places
    "strategy_id": "戦略ID",
    "kpi_id": "KPI ID",
    "project_no": "プロジェクトNo.",
    "project_name": "プロジェクト名",
    "business_no": "事業No.",
    "business_name": "事業名",
    "business_summary": "事業概要",
    "kpi_seq": "事業内のKPI番号",
    "kpi_name": "施策KPI",
    "fiscal_year": "年度",
    "basis": "集計の基準",
    # values
    "unit": "単位",
    "direction": "方向",
    "cumulative": "累計",
    "formula": "計算式",
    "baseline_fiscal_year": "基準値の年度",
    "baseline_value": "基準値",
    "baseline_text": "基準値(表記)",
    "target_fiscal_year": "目標値の年度",
    "target_value": "目標値",
    "target_text": "目標値(表記)",
    "actual_value": "実績値",
    "evaluated": "集計対象",
    "exclusion_reason": "除外理由",
    # scores
    "raw_score": "補正前スコア",
    "score": "スコア",
    "band": "評価区分",
    "band_label_ja": "評価区分(表示)",
    "band_mark": "評価区分の記号",
    "target_achieved": "目標達成",
    "invalid_reason": "スコアなしの理由",
    "published_raw_score": "公表 補正前スコア",
    "published_score": "公表 スコア",
    "published_band": "公表 評価区分",
    "published_target_achieved": "公表 目標達成",
    "raw_score_difference": "補正前スコアの差(再計算−公表)",
    "yardstick": "比べる値の種類",
    "yardstick_value": "比べる値(目標値・期待値)",
    "definition_version": "基準値・目標値の版",
    "revision_reason": "改定理由",
    "original_raw_score": "当初の基準での補正前スコア",
    "original_score": "当初の基準でのスコア",
    "original_band": "当初の基準での評価区分",
    "original_target_achieved": "当初の基準での目標達成",
    "score_difference": "スコアの差(再計算−公表)",
    # score_discrepancy: one row per published figure that differs from the recomputation
    "discrepancy": "食い違いの種類",
    "field": "項目",
    "published_value": "公表値",
    "recomputed_value": "再計算値",
    "difference": "差(再計算−公表)",
    "published_text": "公表値(表記)",
    "recomputed_text": "再計算値(表記)",
    # summaries
    "businesses_total": "全事業数",
    "kpis_total": "全KPI数",
    "businesses_evaluated": "集計対象事業数",
    "kpis_evaluated": "集計対象KPI数",
    "average_score": "平均スコア",
    "below_baseline_count": "基準未満",
    "band_0_50_count": "0~50",
    "band_50_100_count": "50~100",
    "band_100_plus_count": "100以上",
    "target_achieved_count": "目標達成",
    "on_track_count": "順調",
    "behind_count": "遅れ",
    "unlikely_count": "達成困難",
    "not_enough_data_count": "データ不足",
    "kpi_count": "KPI数",
    # where a row came from
    "source_file": "入力ファイル",
    "source_line": "入力ファイルの行",
    "notes": "読み取り時の注記",
    "department": "担当課",
}

DIRECTION_ARROWS = {"up": "↗", "down": "↘", "maintain": "→"}


def label_ja(column: str) -> str:
    """Return the Japanese header of ``column``; a column without one keeps its English name."""
    return COLUMN_LABELS_JA.get(column, column)
