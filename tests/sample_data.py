"""Small data files shared by the tests."""

from __future__ import annotations

from apps.datasets.cnaps import make_code

CREDIT_CSV = (
    "application_id,application_date,user_age,city,income,is_bad\n"
    "A1,2024-01-01,30,北京,8000,0\n"
    "A2,2024-01-02,45,上海,12000,1\n"
    "A3,2024-01-03,,广州,5000,0\n"
    "A4,2024-01-04,22,深圳,,0\n"
    "A5,2024-01-05,51,北京,30000,1\n"
    "A6,2024-01-06,38,杭州,9000,0\n"
)


def bank_csv(rows: int = 5, *, bad: bool = True, header: str = "银行名称,联行号,清算行行号") -> str:
    clearing = make_code("102", "1000", "0001")
    lines = [header, f"中国工商银行股份有限公司北京市分行营业部,{clearing},{clearing}"]
    for i in range(2, rows + 1):
        lines.append(
            f"中国工商银行股份有限公司北京第{i}支行,{make_code('102', '1000', f'{i:04d}')},{clearing}"
        )
    if bad:
        lines.append(f",{make_code('102', '1000', '0900')},{clearing}")  # missing name
        lines.append(f"中国工商银行股份有限公司北京坏号支行,10210000901,{clearing}")  # 11 digits
        lines.append(
            f"中国工商银行股份有限公司北京重复支行,{make_code('102', '1000', '0002')},{clearing}"
        )  # duplicate
    return "\n".join(lines) + "\n"
