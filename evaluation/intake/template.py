"""The workbook each department fills in for a fiscal year (実績報告の様式), one file per department.

The first sheet 「記入方法」 explains in Japanese what to fill. The sheet
「実績報告」 lists every KPI of the department with the baseline, the earlier
years' values and the target, all locked by sheet protection. Only the input
cells (実績値, 状態, 要因分析, 提出者, 修正, 修正理由) are unlocked. The status
and correction cells have drop-down lists and the actual cell takes numbers
only. A filled template is a valid submission file as it stands.
"""

from __future__ import annotations

import logging
import re
from decimal import Decimal
from pathlib import Path

from evaluation.eras import era_label, era_label_ja
from evaluation.intake.master import DIRECTION_ARROWS, KpiMaster, MasterKpi
from evaluation.intake.merge import NO_DEPARTMENT
from evaluation.intake.submission import CORRECTION_WORD, REPORT_STATUSES
from evaluation.strategy import Strategy

log = logging.getLogger(__name__)

INSTRUCTIONS_SHEET = "記入方法"
REPORT_SHEET = "実績報告"
HEADER_ROW = 3  # the upper header row; column labels sit in the row below it
FIRST_DATA_ROW = HEADER_ROW + 2
KPI_LABELS = ("年度", "担当課", "KPIコード", "プロジェクト名", "事業名", "KPI名", "単位", "方向")
INPUT_LABELS = ("実績値", "状態", "要因分析", "提出者", CORRECTION_WORD, "修正理由")
# Bounds of the numeric input rule; a value beyond them is a typing slip.
MAX_ABS_VALUE = 10**12
INPUT_FILL = "FFF2CC"
LOCKED_FILL = "F2F2F2"
HEADER_FILL = "DDEBF7"
_UNSAFE_FILE_CHARACTERS = re.compile(r'[\\/:*?"<>|\s]+')


def template_file_name(strategy: Strategy, fiscal_year: int, department: str) -> str:
    """Name a template file: "otaru-2015_2020_建設部建築住宅課.xlsx"."""
    return f"{strategy.strategy_id}_{fiscal_year}_{_UNSAFE_FILE_CHARACTERS.sub('_', department)}.xlsx"


def write_templates(strategy: Strategy, master: KpiMaster, current_values: list[dict], fiscal_year: int,
                    out_dir: Path) -> list[Path]:
    """Write one template per department of the master for ``fiscal_year``; return the files written."""
    values = {(row["kpi_id"], row["fiscal_year"]): row for row in current_values}
    departments: dict[str, list[MasterKpi]] = {}
    for kpi in master.kpis:
        departments.setdefault(kpi.department or NO_DEPARTMENT, []).append(kpi)

    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for department, kpis in departments.items():
        path = out_dir / template_file_name(strategy, fiscal_year, department)
        _write_template(path, strategy, department, kpis, values, fiscal_year)
        log.info("wrote template %s: %d KPIs of %s for FY%d", path, len(kpis), department, fiscal_year)
        written.append(path)
    return written


def _write_template(path: Path, strategy: Strategy, department: str, kpis: list[MasterKpi],
                    values: dict, fiscal_year: int) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill, Protection
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    workbook = Workbook()
    _write_instructions(workbook.active, strategy, department, fiscal_year)
    sheet = workbook.create_sheet(REPORT_SHEET)

    past_years = list(range(strategy.first_fiscal_year, fiscal_year))  # shown for reference
    baseline_years = sorted({k.baseline_fiscal_year for k in kpis})
    target_years = sorted({k.target_fiscal_year for k in kpis})
    reference_labels = [
        f"基準値({era_label(baseline_years[0])})" if len(baseline_years) == 1 else "基準値",
        *(era_label_ja(year) for year in past_years),
        f"目標値({era_label(target_years[0])})" if len(target_years) == 1 else "目標値",
    ]
    labels = [*KPI_LABELS, *reference_labels, *INPUT_LABELS]
    first_reference = len(KPI_LABELS) + 1
    first_input = first_reference + len(reference_labels)
    last_column = len(labels)

    sheet.cell(1, 1, f"{era_label_ja(fiscal_year)}({fiscal_year}年度) KPI実績報告 {department} / {strategy.name}")
    sheet.cell(1, 1).font = Font(bold=True, size=13)
    upper, lower = HEADER_ROW, HEADER_ROW + 1
    for column, label in enumerate(KPI_LABELS, start=1):
        sheet.cell(upper, column, label)
        sheet.merge_cells(start_row=upper, start_column=column, end_row=lower, end_column=column)
    sheet.cell(upper, first_reference, "これまでの値(参考・変更できません)")
    sheet.merge_cells(start_row=upper, start_column=first_reference, end_row=upper, end_column=first_input - 1)
    sheet.cell(upper, first_input, f"{era_label_ja(fiscal_year)}の報告(黄色のセルに記入)")
    sheet.merge_cells(start_row=upper, start_column=first_input, end_row=upper, end_column=last_column)
    for column, label in enumerate(labels[first_reference - 1:], start=first_reference):
        sheet.cell(lower, column, label)
    for row in (upper, lower):
        for column in range(1, last_column + 1):
            cell = sheet.cell(row, column)
            cell.font = Font(bold=True)
            cell.fill = PatternFill("solid", fgColor=HEADER_FILL)
            cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)

    status_rule = DataValidation(type="list", formula1='"' + ",".join(REPORT_STATUSES) + '"', allow_blank=True,
                                 showErrorMessage=True, errorTitle="状態",
                                 error="確定・速報・未確定・後日報告 から選んでください。")
    correction_rule = DataValidation(type="list", formula1=f'"{CORRECTION_WORD}"', allow_blank=True,
                                     showErrorMessage=True, errorTitle="修正",
                                     error="前に報告した値を直すときだけ「修正」を選んでください。")
    number_rule = DataValidation(type="decimal", operator="between", formula1=str(-MAX_ABS_VALUE),
                                 formula2=str(MAX_ABS_VALUE), allow_blank=True, showErrorMessage=True,
                                 errorTitle="実績値", error="数値だけを入力してください(単位は不要です)。",
                                 showInputMessage=True, promptTitle="実績値", prompt="数値だけを入力します。")
    percent_rule = DataValidation(type="decimal", operator="between", formula1="0", formula2="100",
                                  allow_blank=True, showErrorMessage=True, errorTitle="実績値(%)",
                                  error="0〜100 の数値を入力してください(75.85% なら 75.85)。",
                                  showInputMessage=True, promptTitle="実績値(%)",
                                  prompt="75.85% なら 75.85 と入力します。")
    for rule in (status_rule, correction_rule, number_rule, percent_rule):
        sheet.add_data_validation(rule)

    for offset, kpi in enumerate(kpis):
        row = FIRST_DATA_ROW + offset
        reference = [
            _shown(kpi.baseline.value, kpi.baseline_text),
            *(_shown_value(values.get((kpi.kpi_id, year))) for year in past_years),
            _shown(kpi.target.value, kpi.target_text),
        ]
        fixed = [fiscal_year, kpi.department or NO_DEPARTMENT, kpi.kpi_id, kpi.project_name, kpi.business_name,
                 kpi.kpi_name, kpi.unit or "", DIRECTION_ARROWS[kpi.direction], *reference]
        for column, value in enumerate(fixed, start=1):
            cell = sheet.cell(row, column, value)
            cell.fill = PatternFill("solid", fgColor=LOCKED_FILL)
            cell.protection = Protection(locked=True)
        sheet.cell(row, 3).number_format = "@"  # the KPI code stays text: 0123 keeps its zero
        for column in range(first_input, last_column + 1):
            cell = sheet.cell(row, column)
            cell.fill = PatternFill("solid", fgColor=INPUT_FILL)
            cell.protection = Protection(locked=False)
        actual = sheet.cell(row, first_input)
        actual.number_format = "0.00" if kpi.unit == "%" else "#,##0.######"
        (percent_rule if kpi.unit == "%" else number_rule).add(actual)
        status_rule.add(sheet.cell(row, first_input + 1))
        correction_rule.add(sheet.cell(row, first_input + 4))

    last_row = FIRST_DATA_ROW + len(kpis)
    sheet.cell(last_row + 1, 1, "※ 灰色のセルは変更できません。行や列を追加・削除しないでください。")
    for column, width in zip(range(1, last_column + 1),
                             (8, 16, 10, 22, 26, 40, 6, 6, *([11] * len(reference_labels)), 12, 10, 40, 12, 8, 30),
                             strict=True):
        sheet.column_dimensions[get_column_letter(column)].width = width
    sheet.freeze_panes = sheet.cell(FIRST_DATA_ROW, first_reference)
    sheet.protection.sheet = True
    sheet.protection.formatColumns = False  # staff may still widen columns and rows
    sheet.protection.formatRows = False
    workbook.active = 0

    path.parent.mkdir(parents=True, exist_ok=True)
    workbook.save(path)


def _shown(value: Decimal | None, text: str) -> object:
    return value if value is not None else text


def _shown_value(row: dict | None) -> object:
    if row is None:
        return "—"
    if row["value"] is not None:
        return Decimal(row["value"])
    return row["value_text"]


def _write_instructions(sheet, strategy: Strategy, department: str, fiscal_year: int) -> None:
    from openpyxl.styles import Alignment, Font

    sheet.title = INSTRUCTIONS_SHEET
    era = era_label_ja(fiscal_year)
    lines = [
        f"{era}({fiscal_year}年度) KPI実績報告の記入方法",
        "",
        f"このファイルは {department} が担当する KPI の {era}の実績を報告するための様式です({strategy.name})。",
        "",
        "1. 「実績報告」シートの黄色のセルだけに記入してください。灰色のセルは保護されていて変更できません。",
        "2. 実績値: 数値だけを入力します。単位は不要です。",
        "   割合(%)の KPI は 75.85% なら 75.85 と入力します(75.85% と入力しても正しく読み取ります)。",
        "   全角数字・桁区切りのカンマ(1,199)も使えます。マイナスは -5 のように入力します。",
        "3. 状態: 一覧から選びます。",
        "   確定 … 値が確定している / 速報 … 暫定の値(後で確定値を報告します)",
        "   未確定 … 値がまだ出ていない / 後日報告 … 後で報告する。未確定・後日報告のときは実績値を空欄にします。",
        "4. 要因分析: 目標や前年度と比べた増減の理由を書いてください。",
        "5. 提出者: 記入した方の所属と氏名を書いてください。",
        "6. 修正・修正理由: 前に報告した値を直すときだけ、「修正」を選び、修正理由を必ず書いてください。",
        "   「修正」のない値が前の報告と違うと、取り込み時にエラーになります。",
        "7. 行や列を追加・削除しないでください。ファイル名は変えても構いません。",
        "8. 記入が済んだら、このファイルをそのまま企画担当へ返送してください(CSV にしなくて構いません)。",
    ]
    for row, text in enumerate(lines, start=1):
        sheet.cell(row, 1, text)
        sheet.cell(row, 1).alignment = Alignment(wrap_text=False)
    sheet.cell(1, 1).font = Font(bold=True, size=14)
    sheet.column_dimensions["A"].width = 120
