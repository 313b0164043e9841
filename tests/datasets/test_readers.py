"""The reading layer: formats, encodings, delimiters, line numbers, limits and unsafe workbooks.

No database: every test builds its files in tmp_path and reads them back.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import pickle
import random
import struct
import zipfile
from pathlib import Path

import numpy as np
import pytest
import xlsxwriter

from apps.datasets import readers
from apps.datasets.cnaps import make_code
from apps.datasets.readers import IngestError, Limits, clean_filename, convert_to_parquet, detect_format

CODE = make_code("102", "1000", "0001")


def write(tmp_path: Path, name: str, content: bytes | str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(content.encode(encoding) if isinstance(content, str) else content)
    return path


def convert(path: Path, **kwargs):
    """Detect, convert and read back: (result, table as a dict of lists)."""
    fmt = detect_format(path, path.name)
    dest = path.with_name(path.name + ".parquet")
    result = convert_to_parquet(path, dest, fmt=fmt, **kwargs)
    return result, readers.read_parquet_columns(dest).to_pydict()


def refused(path: Path, code: str, **kwargs) -> IngestError:
    with pytest.raises(IngestError) as info:
        convert(path, **kwargs)
    assert info.value.code == code, info.value.message
    return info.value


def lines(result) -> list[int]:
    return result.line_numbers.tolist()


# --- names and formats -------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\张三\\联行号.xlsx", "联行号.xlsx"),
        ("a\x00b\x1b[31m.csv", "ab[31m.csv"),
        ("evil\u202egnp.csv", "evilgnp.csv"),
        ("  many   spaces\there .csv ", "many spaces here .csv"),
        ("", "upload"),
        ("dir/", "upload"),
        ("..", "upload"),
    ],
)
def test_clean_filename_keeps_a_safe_basename(raw, clean):
    assert clean_filename(raw) == clean


def test_clean_filename_caps_length_keeping_the_extension():
    name = clean_filename("数" * 400 + ".xlsx")
    assert len(name) == 255
    assert name.endswith(".xlsx")


@pytest.mark.parametrize(("name", "fmt"), [("a.csv", "csv"), ("A.CSV", "csv"), ("b.TxT", "txt")])
def test_detect_format_uses_the_extension_case_insensitively(tmp_path, name, fmt):
    assert detect_format(write(tmp_path, "f", "a,b\n1,2\n"), name) == fmt


def test_detect_format_accepts_a_real_workbook(tmp_path):
    assert detect_format(xlsx(tmp_path / "w.xlsx", [["a"], [1]]), "w.XLSX") == "xlsx"


@pytest.mark.parametrize("name", ["data.xls", "data.json", "data", "data.csv.exe"])
def test_detect_format_refuses_unknown_extensions(tmp_path, name):
    with pytest.raises(IngestError) as info:
        detect_format(write(tmp_path, "f", "a,b\n1,2\n"), name)
    assert info.value.code == "unknown_extension"


def test_detect_format_refuses_an_empty_file(tmp_path):
    with pytest.raises(IngestError) as info:
        detect_format(write(tmp_path, "f", b""), "a.csv")
    assert info.value.code == "empty_file"


@pytest.mark.parametrize(
    ("content", "what"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "PNG"),
        (b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 40, "ELF"),
        (b"MZ\x90\x00\x03\x00\x00\x00", "executable"),
        (b"%PDF-1.7\n", "PDF"),
        (b"  <!DOCTYPE html>\n<html><body>a,b</body></html>", "HTML"),
        (b"<html>a,b\n1,2</html>", "HTML"),
        (b"PK\x03\x04" + b"\x00" * 30, "zip"),
        (b"a,b\n1,\x00\x002\n", "NUL"),
    ],
)
def test_detect_format_refuses_binary_content_named_csv(tmp_path, content, what):
    for name in ("x.csv", "x.txt"):
        with pytest.raises(IngestError) as info:
            detect_format(write(tmp_path, "f", content), name)
        assert info.value.code == "content_mismatch"
        assert what.lower() in info.value.message.lower()


def test_detect_format_refuses_text_named_xlsx(tmp_path):
    with pytest.raises(IngestError) as info:
        detect_format(write(tmp_path, "f", "a,b\n1,2\n"), "x.xlsx")
    assert info.value.code == "content_mismatch"


def test_detect_format_refuses_a_zip_that_is_not_a_workbook(tmp_path):
    path = tmp_path / "f.xlsx"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("readme.txt", "hello")
    with pytest.raises(IngestError) as info:
        detect_format(path, "f.xlsx")
    assert info.value.code == "content_mismatch"


def test_detect_format_reports_a_damaged_zip(tmp_path):
    with pytest.raises(IngestError) as info:
        detect_format(write(tmp_path, "f", b"PK\x03\x04" + b"garbage" * 10), "x.xlsx")
    assert info.value.code == "xlsx_unreadable"


def test_ingest_errors_pickle_with_code_and_line():
    error = pickle.loads(pickle.dumps(IngestError("ragged_rows", "bad", line=3)))  # noqa: S301 - our own bytes
    assert (error.code, error.message, error.line) == ("ragged_rows", "bad", 3)


def test_convert_refuses_an_unknown_format(tmp_path):
    with pytest.raises(IngestError) as info:
        convert_to_parquet(write(tmp_path, "a.csv", "a\n1\n"), tmp_path / "o.parquet", fmt="json")
    assert info.value.code == "unknown_extension"


# --- encodings ------------------------------------------------------------------------

CHINESE = (
    "银行名称,联行号,备注\n"
    "中国工商银行股份有限公司北京分行,012345678901,“引号”与、顿号\n"
    "招商银行,308100005019,\n"
)


@pytest.mark.parametrize(
    ("encoding", "reported"),
    [("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig"), ("gbk", "gb18030"), ("gb18030", "gb18030")],
)
def test_chinese_text_round_trips_in_every_common_encoding(tmp_path, encoding, reported):
    result, table = convert(write(tmp_path, "a.csv", CHINESE, encoding), all_strings=True)
    assert result.encoding == reported
    assert list(table) == ["银行名称", "联行号", "备注"]
    assert table["银行名称"] == ["中国工商银行股份有限公司北京分行", "招商银行"]
    assert table["联行号"] == ["012345678901", "308100005019"]
    assert table["备注"] == ["“引号”与、顿号", ""]


def test_gb18030_only_characters_round_trip(tmp_path):
    text = "名称,备注\n𠮷野家,€ 与 ㈠\n"  # 𠮷 and € are outside GBK
    result, table = convert(write(tmp_path, "a.csv", text, "gb18030"))
    assert result.encoding == "gb18030"
    assert table == {"名称": ["𠮷野家"], "备注": ["€ 与 ㈠"]}


def test_utf16_with_a_bom_is_read(tmp_path):
    result, table = convert(write(tmp_path, "a.txt", "名称\t代码\n中国\t012\n", "utf-16"), all_strings=True)
    assert result.encoding == "utf-16"
    assert table == {"名称": ["中国"], "代码": ["012"]}


def test_declared_encoding_is_used_strictly(tmp_path):
    path = write(tmp_path, "a.csv", "名称,代码\n中国,1\n", "gbk")
    result, table = convert(path, declared_encoding="GBK")
    assert result.encoding == "gbk"
    assert table["名称"] == ["中国"]
    error = refused(
        write(tmp_path, "b.csv", "a,b\n1,2\n𠮷,3\n", "gb18030"), "encoding_error", declared_encoding="gbk"
    )
    assert error.line == 3


@pytest.mark.parametrize("declared", ["utf-8", "UTF8", "utf-8-sig"])
def test_declared_utf8_is_read_with_or_without_a_bom(tmp_path, declared):
    result, table = convert(write(tmp_path, "a.csv", "名称\n中国\n"), declared_encoding=declared)
    assert result.encoding == "utf-8"
    assert table == {"名称": ["中国"]}


def test_decoding_in_blocks_never_splits_a_character(tmp_path, monkeypatch):
    monkeypatch.setattr(readers.encoding, "_CHUNK", 7)  # blocks far smaller than the lines
    text = "名称,备注\n" + "".join(f"中国{i},很长的一行中文内容{i}\n" for i in range(50))
    for encoding, reported in (("utf-8", "utf-8"), ("gbk", "gb18030")):
        result, table = convert(write(tmp_path, f"{encoding}.csv", text, encoding))
        assert result.encoding == reported
        assert table["备注"][-1] == "很长的一行中文内容49"


@pytest.mark.parametrize("declared", ["no-such-codec", "utf-16"])
def test_unknown_or_non_ascii_declared_encodings_are_refused(tmp_path, declared):
    refused(write(tmp_path, "a.csv", "a,b\n1,2\n"), "encoding_error", declared_encoding=declared)


def test_invalid_bytes_give_the_line_of_the_first_bad_byte(tmp_path):
    content = "a,b\n中文,1\n".encode() + b"ok,2\nbad \xff\xfe\xfa,3\n"
    error = refused(write(tmp_path, "a.csv", content), "encoding_error")
    assert error.line == 4
    assert "line 4" in error.message.lower()


def test_invalid_utf8_after_a_bom_is_refused(tmp_path):
    error = refused(write(tmp_path, "a.csv", b"\xef\xbb\xbfa,b\n1,2\n\xff,3\n"), "encoding_error")
    assert error.line == 3


# --- delimiters, quoting, line numbers -------------------------------------------------


@pytest.mark.parametrize("delimiter", [",", "\t", "|", ";"])
@pytest.mark.parametrize("name", ["a.csv", "a.txt"])
def test_each_delimiter_is_sniffed(tmp_path, delimiter, name):
    rows = [["名称", "金额", "备注"], ["甲", "1.5", "x y"], ["乙", "2", "z"]]
    text = "\n".join(delimiter.join(r) for r in rows) + "\n"
    result, table = convert(write(tmp_path, name, text))
    assert result.delimiter == delimiter
    assert table == {"名称": ["甲", "乙"], "金额": [1.5, 2.0], "备注": ["x y", "z"]}


def test_a_single_column_file_uses_the_default_delimiter(tmp_path):
    result, table = convert(write(tmp_path, "a.csv", "名称\n甲\n乙\n"))
    assert result.delimiter == ","
    assert table == {"名称": ["甲", "乙"]}


def test_quoted_fields_with_delimiters_and_newlines_keep_physical_line_numbers(tmp_path):
    text = (
        "name,note,amount\r\n"  # line 1
        '"Smith, J","says ""hi""",1\r\n'  # line 2
        'Li,"two\r\nline note",2\r\n'  # lines 3-4
        "\r\n"  # line 5, empty
        'Wang,"three\nline\nnote",3\r\n'  # lines 6-8
        "Zhao,plain,4"  # line 9, no final newline
    )
    result, table = convert(write(tmp_path, "a.csv", text))
    assert table["name"] == ["Smith, J", "Li", "Wang", "Zhao"]
    assert table["note"] == ['says "hi"', "two\r\nline note", "three\nline\nnote", "plain"]
    assert table["amount"] == [1, 2, 3, 4]
    assert lines(result) == [2, 3, 6, 9]


def test_quotes_inside_unquoted_fields_are_literal(tmp_path):
    # pyarrow opens a quote only at a field's start; the slow path must agree with it.
    text = 'a;b\nab"c;1\n"x"y;2\n"p;q";3\n'
    result, table = convert(write(tmp_path, "a.csv", text))
    assert table == {"a": ['ab"c', "xy", "p;q"], "b": [1, 2, 3]}
    assert lines(result) == [2, 3, 4]


def test_an_unclosed_quote_is_reported_where_it_opens(tmp_path):
    error = refused(write(tmp_path, "a.csv", 'a,b\n1,2\n3,"four\n5,6\n'), "unclosed_quote")
    assert error.line == 3


def random_field(rng: random.Random) -> str:
    pieces = ["a", "中文", ",", '"', "\n", " ", "x;y", "|", "\t", "0"]
    return "".join(rng.choice(pieces) for _ in range(rng.randint(1, 5))).strip() or "v"


@pytest.mark.parametrize("walk", [False, True], ids=["parity", "walk"])
@pytest.mark.parametrize("seed", range(3))
def test_random_quoted_files_match_the_csv_module_with_line_numbers(tmp_path, monkeypatch, seed, walk):
    if walk:  # the slow path must find the same records as the vectorised one
        monkeypatch.setattr(readers.records, "_quotes_pair_simply", lambda *args: False)
    rng = random.Random(seed)
    rows = [[random_field(rng) for _ in range(4)] for _ in range(300)]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["c1", "c2", "c3", "c4"])
    expected_lines, line = [], 2
    for row in rows:
        expected_lines.append(line)
        writer.writerow(row)
        line += sum(field.count("\n") for field in row) + 1
    result, table = convert(write(tmp_path, "a.csv", buffer.getvalue()), all_strings=True)
    assert [list(r) for r in zip(*table.values(), strict=True)] == rows
    assert lines(result) == expected_lines


def test_wrong_field_counts_are_refused_naming_the_lines(tmp_path):
    text = "a,b,c\n1,2,3\n4,5\n6,7,8\n9,10,11,12\n"
    error = refused(write(tmp_path, "a.csv", text), "ragged_rows")
    assert error.line == 3
    assert "line 3 (2 fields)" in error.message
    assert "line 5 (4 fields)" in error.message


def test_wrong_field_counts_are_set_aside_when_tolerated(tmp_path):
    text = 'a,b,c\n1,2,3\n"multi\nline",5\n\n6,7,8\n9,10,11,12\n13,14,15\n'
    result, table = convert(write(tmp_path, "a.csv", text), tolerate_bad_lines=True)
    assert table["a"] == [1, 6, 13]
    assert lines(result) == [2, 6, 8]
    assert [(b.line, b.text, b.message) for b in result.bad_lines] == [
        (3, '"multi\nline",5', "expected 3 fields, found 2"),
        (7, "9,10,11,12", "expected 3 fields, found 4"),
    ]
    assert result.problems[0].line == 3


# --- types ------------------------------------------------------------------------------


def test_all_strings_keeps_leading_zeros_and_empty_values(tmp_path):
    text = "code,amount,flag\n012345678901,001.50,\n000000000001,NA,true\n"
    result, table = convert(write(tmp_path, "a.csv", text), all_strings=True)
    assert {c.dtype for c in result.columns} == {"string"}
    assert table == {
        "code": ["012345678901", "000000000001"],
        "amount": ["001.50", "NA"],
        "flag": ["", "true"],
    }


def test_types_are_inferred_with_na_tokens_as_null(tmp_path):
    text = (
        "i,f,b,d,ts,s,empty\n"
        "1,1.5,true,2024-01-02,2024-01-02 03:04:05,x,\n"
        "NA,2,false,2024-01-03,2024-01-03 00:00:00,NULL,\n"
        "3,,,,,y,\n"
    )
    result, table = convert(write(tmp_path, "a.csv", text))
    assert {c.name: c.dtype for c in result.columns} == {
        "i": "int64",
        "f": "double",
        "b": "bool",
        "d": "date32[day]",
        "ts": "timestamp[s]",
        "s": "string",
        "empty": "string",
    }
    assert table["i"] == [1, None, 3]
    assert table["s"] == ["x", None, "y"]
    assert table["ts"][0] == dt.datetime(2024, 1, 2, 3, 4, 5)
    assert table["empty"] == [None, None, None]


def test_a_late_value_widens_the_inferred_type(tmp_path):
    # Past Arrow's first block: type inference must look at the whole file.
    text = "n,x\n" + "1,2\n" * 300_000 + "2.5,abc\n"
    result, table = convert(write(tmp_path, "a.csv", text))
    assert {c.name: c.dtype for c in result.columns} == {"n": "double", "x": "string"}
    assert result.row_count == 300_001
    assert table["x"][-1] == "abc"


# --- header and size checks ----------------------------------------------------------------


def test_header_names_are_stripped(tmp_path):
    _, table = convert(write(tmp_path, "a.csv", " 名称 , code\t\n甲,1\n"))
    assert list(table) == ["名称", "code"]


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("a,b,a\n1,2,3\n", "duplicate_columns"),
        (" a ,a\n1,2\n", "duplicate_columns"),
        ("a,,c\n1,2,3\n", "empty_column_name"),
        ("a,b,\n1,2,3\n", "empty_column_name"),
        ("a,b,c\n", "no_data_rows"),
        ("a,b,c\n\n\n", "no_data_rows"),
        ("", "empty_file"),
        (" \n\t\r\n  \n", "empty_file"),
        ("\ufeff", "empty_file"),
    ],
)
def test_bad_headers_and_empty_files_are_refused(tmp_path, text, code):
    error = refused(write(tmp_path, "a.csv", text), code)
    if code == "duplicate_columns":
        assert "a" in error.message


def test_too_many_columns_are_refused(tmp_path):
    text = ",".join(f"c{i}" for i in range(5)) + "\n" + ",".join("1" * 5) + "\n"
    refused(write(tmp_path, "a.csv", text), "too_many_columns", limits=Limits(max_columns=4))
    _, table = convert(write(tmp_path, "b.csv", text), limits=Limits(max_columns=5))
    assert len(table) == 5


def test_a_too_long_line_is_refused_with_its_number(tmp_path):
    text = "a,b\n1,2\n3," + "x" * 200 + "\n5,6\n"
    error = refused(write(tmp_path, "a.csv", text), "line_too_long", limits=Limits(max_line_bytes=100))
    assert error.line == 3


def test_a_too_long_quoted_record_is_refused(tmp_path):
    text = 'a,b\n1,"' + "x\n" * 80 + '"\n'
    error = refused(write(tmp_path, "a.csv", text), "line_too_long", limits=Limits(max_line_bytes=100))
    assert error.line == 2


def test_progress_is_reported_and_no_temporary_files_remain(tmp_path):
    seen: list[float] = []
    path = write(tmp_path, "a.csv", "名称,代码\n中国,1\n", "gbk")
    convert(path, progress=seen.append)
    assert seen[0] == 0.0
    assert seen[-1] == 1.0
    assert seen == sorted(seen)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.csv", "a.csv.parquet"]


def test_a_failed_conversion_leaves_no_output(tmp_path):
    refused(write(tmp_path, "a.csv", "a,b\n1,2\n3\n"), "ragged_rows")
    assert [p.name for p in tmp_path.iterdir()] == ["a.csv"]


def test_read_parquet_columns_reads_a_subset(tmp_path):
    convert(write(tmp_path, "a.csv", "a,b,c\n1,2,3\n"))
    table = readers.read_parquet_columns(tmp_path / "a.csv.parquet", ["c", "a"])
    assert table.column_names == ["c", "a"]


# --- xlsx -----------------------------------------------------------------------------------


def xlsx(path: Path, rows: list[list], *, first_row: int = 0, first_col: int = 0, sheets: int = 1) -> Path:
    workbook = xlsxwriter.Workbook(path)
    sheet = workbook.add_worksheet("数据")
    date_format = workbook.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if isinstance(value, dt.datetime):
                sheet.write_datetime(first_row + r, first_col + c, value, date_format)
            elif value is not None:
                sheet.write(first_row + r, first_col + c, value)
    for i in range(1, sheets):
        workbook.add_worksheet(f"other{i}").write(0, 0, "ignored")
    workbook.close()
    return path


def test_xlsx_is_read_with_chinese_headers_and_row_numbers(tmp_path):
    path = xlsx(
        tmp_path / "w.xlsx",
        [
            ["银行名称", "联行号", "清算行行号"],
            ["中国工商银行", CODE, CODE],
            [None, None, None],
            ["招商银行", "0123", "x"],
        ],
        first_row=2,
        sheets=2,
    )
    result, table = convert(path, all_strings=True)
    assert table == {
        "银行名称": ["中国工商银行", "招商银行"],
        "联行号": [CODE, "0123"],
        "清算行行号": [CODE, "x"],
    }
    assert lines(result) == [4, 6]  # header on worksheet row 3, the empty row 5 skipped
    assert result.encoding is None and result.delimiter is None
    assert "first sheet" in result.problems[0].message


def test_xlsx_codes_stored_as_numbers_become_digit_strings(tmp_path):
    path = xlsx(tmp_path / "w.xlsx", [["bank_code", "ratio"], [int(CODE), 0.25], ["308100005019", 3.0]])
    _, table = convert(path, all_strings=True)
    assert table == {"bank_code": [CODE, "308100005019"], "ratio": ["0.25", "3"]}


def test_xlsx_types_are_inferred_per_column(tmp_path):
    when = dt.datetime(2024, 5, 6, 7, 8, 9)
    path = xlsx(
        tmp_path / "w.xlsx",
        [
            ["n", "x", "flag", "when", "mixed", "na"],
            [1, 1.5, True, when, "a", "NA"],
            [2, 2, False, when, 3, None],
        ],
    )
    result, table = convert(path)
    assert {c.name: c.dtype for c in result.columns} == {
        "n": "int64",
        "x": "double",
        "flag": "bool",
        "when": "timestamp[s]",
        "mixed": "string",
        "na": "string",
    }
    assert table["n"] == [1, 2]
    assert table["when"] == [when, when]
    assert table["mixed"] == ["a", "3"]
    assert table["na"] == [None, None]


def test_xlsx_trailing_unnamed_empty_columns_are_dropped(tmp_path):
    workbook = xlsxwriter.Workbook(tmp_path / "w.xlsx")
    sheet = workbook.add_worksheet()
    sheet.write_row(0, 0, ["a", "b"])
    sheet.write_row(1, 0, [1, 2])
    sheet.write_blank(1, 4, None, workbook.add_format({"bold": True}))  # formatting residue
    sheet.write(3, 3, "")
    workbook.close()
    _, table = convert(tmp_path / "w.xlsx")
    assert table == {"a": [1], "b": [2]}


@pytest.mark.parametrize(
    ("rows", "code"),
    [
        ([["a", "b", "a"], [1, 2, 3]], "duplicate_columns"),
        ([["a", None, "c"], [1, 2, 3]], "empty_column_name"),
        ([["a", "b"]], "no_data_rows"),
        ([], "empty_file"),
    ],
)
def test_xlsx_header_problems_are_refused(tmp_path, rows, code):
    refused(xlsx(tmp_path / "w.xlsx", rows), code)


def test_xlsx_too_many_columns_are_refused(tmp_path):
    path = xlsx(tmp_path / "w.xlsx", [["a", "b", "c"], [1, 2, 3]])
    refused(path, "too_many_columns", limits=Limits(max_columns=2))


def rewrite_zip(
    src: Path, dest: Path, replace: dict[str, bytes], extra: dict[str, bytes] | None = None
) -> Path:
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            zout.writestr(info.filename, replace.get(info.filename, zin.read(info)))
        for name, data in (extra or {}).items():
            zout.writestr(name, data)
    return dest


def test_xlsx_decompression_bomb_is_refused_by_ratio(tmp_path):
    base = xlsx(tmp_path / "w.xlsx", [["a"], [1]])
    bomb = tmp_path / "bomb.xlsx"
    rewrite_zip(base, bomb, {})
    with zipfile.ZipFile(bomb, "a", zipfile.ZIP_DEFLATED) as zf, zf.open("xl/media/zeros.bin", "w") as member:
        block = b"\x00" * (1 << 20)
        for _ in range(64):  # 64 MiB of zeros, about 64 KiB compressed
            member.write(block)
    assert bomb.stat().st_size < 1 << 20
    error = refused(bomb, "xlsx_too_large")
    assert "bomb" in error.message


def test_xlsx_over_the_uncompressed_limit_is_refused(tmp_path):
    path = xlsx(tmp_path / "w.xlsx", [["a"], [1]])
    refused(path, "xlsx_too_large", limits=Limits(xlsx_max_uncompressed_bytes=1000))


def test_xlsx_part_inflating_past_its_declared_size_is_refused(tmp_path):
    base = xlsx(tmp_path / "w.xlsx", [["a"], [1]])
    path = rewrite_zip(base, tmp_path / "lie.xlsx", {}, {"xl/media/big.bin": b"\x00" * 5_000_000})
    data = bytearray(path.read_bytes())
    entry = data.rindex(b"PK\x01\x02")  # central directory entry of the last part, big.bin
    assert data[entry + 46 : entry + 46 + 15] == b"xl/media/big.bi"
    data[entry + 24 : entry + 28] = struct.pack("<I", 1000)  # claim 1,000 bytes uncompressed
    path.write_bytes(bytes(data))
    error = refused(path, "xlsx_unreadable")
    assert "big.bin" in error.message


DOCTYPE = b'<?xml version="1.0"?>\n<!DOCTYPE x [<!ENTITY boom "boom">]>\n'


def unsafe_workbook(tmp_path: Path, prefix: bytes) -> Path:
    base = xlsx(tmp_path / "w.xlsx", [["a"], [1]])
    with zipfile.ZipFile(base) as zf:
        sheet = zf.read("xl/worksheets/sheet1.xml")
    body = sheet[sheet.index(b"<worksheet") :]
    return rewrite_zip(base, tmp_path / "unsafe.xlsx", {"xl/worksheets/sheet1.xml": prefix + body})


@pytest.mark.parametrize("large", [False, True])
def test_xlsx_with_a_doctype_or_entity_is_refused(tmp_path, monkeypatch, large):
    if large:  # take the streaming prolog scan used for big parts
        monkeypatch.setattr(readers.xlsx, "_SMALL_XML_BYTES", 0)
    refused(unsafe_workbook(tmp_path, DOCTYPE), "xlsx_unsafe_xml")


def test_xlsx_prolog_scan_is_not_fooled_by_comments(tmp_path, monkeypatch):
    monkeypatch.setattr(readers.xlsx, "_SMALL_XML_BYTES", 0)
    prefix = b'<?xml version="1.0"?>\n<!-- <x> -->\n<!DOCTYPE x [<!ENTITY e "e">]>\n'
    refused(unsafe_workbook(tmp_path, prefix), "xlsx_unsafe_xml")


def test_xlsx_prolog_scan_accepts_clean_parts(tmp_path, monkeypatch):
    monkeypatch.setattr(readers.xlsx, "_SMALL_XML_BYTES", 0)
    path = unsafe_workbook(tmp_path, b'\xef\xbb\xbf<?xml version="1.0"?>\n<!-- fine -->\n')
    _, table = convert(path)
    assert table == {"a": [1]}


def test_xlsx_that_calamine_cannot_read_is_reported(tmp_path):
    base = xlsx(tmp_path / "w.xlsx", [["a"], [1]])
    path = rewrite_zip(base, tmp_path / "bad.xlsx", {"xl/workbook.xml": b"<workbook><sheets><sheet"})
    refused(path, "xlsx_unreadable")


def test_xlsx_line_numbers_are_int64_arrays(tmp_path):
    result, _ = convert(xlsx(tmp_path / "w.xlsx", [["a"], [1], [2]]))
    assert result.line_numbers.dtype == np.int64
    assert lines(result) == [2, 3]
