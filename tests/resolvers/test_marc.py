"""MARC21 mapping on the real LC sample and on crafted records (catalogue import)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pymarc import Field, Indicators, MARCWriter, Record, Subfield, XMLWriter

from resolvers.marc import RecordData, Skipped, iter_marc_file, parse_record
from resolvers.marc_fields import isbn13

SAMPLE = Path(
    os.environ.get(
        "HONDANA_MARC_SAMPLE",
        Path(__file__).resolve().parents[3] / "shared" / "data" / "lc-books-2016-sample.mrc",
    )
)
needs_sample = pytest.mark.skipif(not SAMPLE.exists(), reason=f"no MARC sample at {SAMPLE}")


def _record(
    leader6: str = "a", leader7: str = "m", f008: str | None = None, **fields: list[Field]
) -> Record:
    record = Record(leader=f"00000n{leader6}{leader7} a2200000 a 4500")
    record.add_field(Field(tag="001", data="test001"))
    record.add_field(Field(tag="008", data=f008 or "000124s1999    ja            000 0 jpn d"))
    record.add_field(
        Field(tag="245", indicators=Indicators("1", "0"), subfields=[Subfield("a", "Title /")])
    )
    for tag_fields in fields.values():
        for field in tag_fields:
            record.add_field(field)
    return record


@needs_sample
def test_whole_sample_reads_without_skips() -> None:
    # The 19,554 real records all map, Japanese ones with their original script.
    items = list(iter_marc_file(SAMPLE))
    assert len(items) == 19_554
    records = [i for i in items if isinstance(i, RecordData)]
    assert [i for i in items if isinstance(i, Skipped)] == []
    japanese = [r for r in records if r.language == "jpn"]
    assert len(japanese) == 7_495
    assert sum(1 for r in japanese if r.title_reading) > 7_000


@needs_sample
def test_japanese_record_displays_original_script() -> None:
    # 880 partners via $6 occurrence numbers: display in kanji, romanisation as reading.
    record = next(
        i
        for i in iter_marc_file(SAMPLE)
        if isinstance(i, RecordData) and i.control_number == "00271378"
    )
    assert record.title == "上田秋成 「雨月物語」 論"
    assert record.title_reading == 'Ueda Akinari "Ugetsu monogatari" ron'
    assert record.responsibility == "坂東健雄"
    assert record.responsibility_reading == "Bandō, Takeo"
    assert record.publisher == "和泉書院" and record.publisher_reading == "Izumi Shoin"
    assert (record.series, record.volume, record.year) == ("研究叢書", "223", 1999)
    assert record.isbn == "9784870889163"


def test_occurrence_numbers_pick_the_right_880() -> None:
    # Two 880s for two subject fields: each partner found by its occurrence number.
    record = _record(
        s=[
            Field(
                tag="650",
                indicators=Indicators(" ", "0"),
                subfields=[Subfield("6", "880-02"), Subfield("a", "Kyōiku")],
            ),
            Field(
                tag="650",
                indicators=Indicators(" ", "0"),
                subfields=[Subfield("6", "880-01"), Subfield("a", "Rekishi")],
            ),
            Field(
                tag="880",
                indicators=Indicators(" ", "0"),
                subfields=[Subfield("6", "650-01/$1"), Subfield("a", "歴史")],
            ),
            Field(
                tag="880",
                indicators=Indicators(" ", "0"),
                subfields=[Subfield("6", "650-02/$1"), Subfield("a", "教育")],
            ),
        ]
    )
    assert parse_record(record).subjects == ("Kyōiku", "教育", "Rekishi", "歴史")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("4870889161 :", "9784870889163"),
        ("4-87088-916-1", "9784870889163"),
        ("080442957X", "9780804429573"),
        ("978-4-87088-916-3", "9784870889163"),
        ("4870889162", None),
        ("9784870889164", None),
        ("12345", None),
    ],
)
def test_isbn_normalisation(raw: str, expected: str | None) -> None:
    # ISBN-10 (with X) and ISBN-13, hyphens or not, to 13 digits; bad checksums refused.
    assert isbn13(raw) == expected


def test_invalid_isbn_falls_through_to_the_next() -> None:
    record = _record(
        i=[
            Field(
                tag="020", indicators=Indicators(" ", " "), subfields=[Subfield("a", "4870889162")]
            ),
            Field(
                tag="020", indicators=Indicators(" ", " "), subfields=[Subfield("a", "080442957X")]
            ),
        ]
    )
    assert parse_record(record).isbn == "9780804429573"


@pytest.mark.parametrize(
    ("leader6", "leader7", "f007", "f008_23", "expected"),
    [
        ("a", "m", None, " ", "book"),
        ("a", "s", None, " ", "magazine"),
        ("a", "m", None, "o", "ebook"),
        ("a", "m", "cr", " ", "ebook"),
        ("j", "m", "sd", " ", "cd"),
        ("i", "m", "ss", " ", "cassette"),
        ("g", "m", None, " ", "video"),
        ("k", "m", None, " ", "art_reproduction"),
        ("m", "m", None, " ", "ebook"),
    ],
)
def test_material_types(
    leader6: str, leader7: str, f007: str | None, f008_23: str, expected: str
) -> None:
    f008 = "000124s1999    ja            000 0 jpn d"
    f008 = f008[:23] + f008_23 + f008[24:]
    extra = {"p": [Field(tag="007", data=f007)]} if f007 else {}
    record = _record(leader6, leader7, f008, **extra)
    assert parse_record(record).material_type == expected


def test_comic_flag() -> None:
    comic = _record(
        g=[
            Field(
                tag="655",
                indicators=Indicators(" ", "7"),
                subfields=[Subfield("a", "Comic books, strips, etc.")],
            )
        ]
    )
    assert parse_record(comic).is_comic is True
    assert parse_record(_record()).is_comic is False


def test_bad_records_are_skipped_and_the_rest_read(tmp_path: Path) -> None:
    # A record without 001 or 245 is skipped with a reason; garbage mid-file stops nothing.
    good = _record()
    no_id = _record()
    no_id.remove_fields("001")
    no_title = _record()
    no_title.remove_fields("245")
    path = tmp_path / "mixed.mrc"
    with path.open("wb") as out:
        writer = MARCWriter(out)
        writer.write(good)
        writer.write(no_id)
        out.write(b"00099garbage that is not a MARC record at all\x1e\x1d")
        writer.write(no_title)
        writer.write(good)
    items = list(iter_marc_file(path))
    kinds = [type(i).__name__ for i in items]
    assert kinds[0] == "RecordData" and kinds[-1] == "RecordData"
    reasons = [i.reason for i in items if isinstance(i, Skipped)]
    assert "no control number (001)" in reasons and "no title (245)" in reasons
    assert len(reasons) == 3


def test_empty_file_and_marcxml(tmp_path: Path) -> None:
    empty = tmp_path / "empty.mrc"
    empty.write_bytes(b"")
    assert list(iter_marc_file(empty)) == []
    xml = tmp_path / "records.xml"
    with xml.open("wb") as out:
        writer = XMLWriter(out)
        writer.write(_record())
        writer.close(close_fh=False)
    [item] = list(iter_marc_file(xml))
    assert isinstance(item, RecordData) and item.title == "Title"
