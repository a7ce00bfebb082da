"""MARC21 / MARCXML mapping for the catalogue import, on the real LC sample and on records
built here."""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

import pytest
from pymarc import Field, Indicators, MARCWriter, Record, Subfield, XMLWriter

from policies.isbn import isbn13
from resolvers.catalogue.marc import RecordData, Skipped, SkipRecord, parse_record
from resolvers.catalogue.marc_fields import tidy
from resolvers.catalogue.marc_files import iter_marc_file

SAMPLE = Path(
    os.environ.get("HONDANA_MARC_SAMPLE")
    or Path(__file__).resolve().parents[3] / "shared" / "data" / "lc-books-2016-sample.mrc"
)
F008 = "000124s1999    ja            000 0 jpn d"


def field(tag: str, *pairs: str, ind: str = "  ") -> Field:
    """A data field from alternating codes and values: field("245", "a", "Title /")."""
    subfields = [Subfield(code, value) for code, value in zip(pairs[::2], pairs[1::2], strict=True)]
    return Field(tag=tag, indicators=Indicators(ind[0], ind[1]), subfields=subfields)


def make(
    *fields: Field,
    leader: str = "00000nam a2200000 a 4500",
    number: str | None = "test001",
    f008: str = F008,
    title: str | None = "Title /",
) -> Record:
    record = Record(leader=leader)
    if number is not None:
        record.add_field(Field(tag="001", data=number))
    record.add_field(Field(tag="008", data=f008))
    if title is not None:
        record.add_field(field("245", "a", title, ind="10"))
    for extra in fields:
        record.add_field(extra)
    return record


def marc_bytes(*records: Record) -> bytes:
    return b"".join(r.as_marc() for r in records)


@pytest.fixture(scope="module")
def sample() -> list[RecordData | Skipped]:
    if not SAMPLE.exists():
        pytest.skip(f"LC sample not found at {SAMPLE} (set HONDANA_MARC_SAMPLE to its path)")
    return list(iter_marc_file(SAMPLE))


@pytest.fixture(scope="module")
def by_number(sample: list[RecordData | Skipped]) -> dict[str, RecordData]:
    return {r.control_number: r for r in sample if isinstance(r, RecordData)}


# --- the real LC sample ----------------------------------------------------------------


def test_whole_sample_maps_every_record(sample: list[RecordData | Skipped]) -> None:
    # All 19,554 records map (none skipped); the 7,495 Japanese ones get their kanji titles.
    assert len(sample) == 19_554
    skipped = [i for i in sample if isinstance(i, Skipped)]
    assert skipped == [], skipped[:5]
    records = [i for i in sample if isinstance(i, RecordData)]
    japanese = [r for r in records if r.language == "jpn"]
    assert len(japanese) == 7_495
    # Five Japanese records have no 880 title, so their romanised title is the display.
    assert sum(1 for r in japanese if r.title_reading) == 7_490
    assert sum(1 for r in records if r.title_reading) == 8_328  # Chinese, Korean, Hebrew... too
    assert Counter(r.material_type for r in records) == {"book": 19_550, "ebook": 4}
    assert len({r.control_number for r in records}) == 19_554  # 001 "   00271378 " is stripped


def test_japanese_record_displays_original_script(by_number: dict[str, RecordData]) -> None:
    # 880 partners give the display forms; the ALA-LC romanisation becomes the reading.
    record = by_number["00271378"]
    assert (record.title, record.title_reading) == (
        "上田秋成 「雨月物語」 論",
        'Ueda Akinari "Ugetsu monogatari" ron',
    )
    assert (record.responsibility, record.responsibility_reading) == ("坂東健雄", "Bandō, Takeo")
    assert (record.publisher, record.publisher_reading) == ("和泉書院", "Izumi Shoin")
    assert (record.series, record.volume, record.year) == ("研究叢書", "223", 1999)
    assert record.isbn == "9784870889163"  # from "4870889161 :"
    assert record.subject_class == "PL794.8.U353"
    assert record.subjects == (
        "Ueda, Akinari, 1734-1809. Ugetsu monogatari",
        "上田秋成, 1734-1809. 雨月物語",
    )
    assert (record.material_type, record.is_comic, record.language) == ("book", False, "jpn")


def test_real_880s_out_of_order_pair_by_occurrence(by_number: dict[str, RecordData]) -> None:
    # In 00696189 the 880s for the two 651s come in reverse order (07 before 06): only the
    # occurrence number pairs "Description and travel" with its own kanji form.
    record = by_number["00696189"]
    assert record.subjects == (
        "Wakayama-ken (Japan) -- Description and travel",
        "和歌山県 (Japan) -- Description and travel",
        "Wakayama-ken (Japan) -- Pictorial works",
        "和歌山県 (Japan) -- Pictorial works",
    )
    assert record.title == "紀伊國名所圖會"
    assert record.publisher == "須原屋茂兵衛 ... [and 7 others] ; 河内屋太助"
    assert record.year == 1811  # 008 "m18111812"


def test_statement_of_responsibility_when_no_main_entry(by_number: dict[str, RecordData]) -> None:
    # Without a 1XX the 245 $c stands in, from the 880 as well.
    record = by_number["00422375"]
    assert record.responsibility == "中西輝政編 ; 小林節 ... [et al.]"
    assert record.responsibility_reading == "Nakanishi Terumasa ; Kobayashi Setsu ... [et al.]"


def test_binary_to_marcxml_round_trip_on_real_records(tmp_path: Path) -> None:
    # The first 300 real records read the same from MARCXML as from binary MARC.
    if not SAMPLE.exists():
        pytest.skip(f"LC sample not found at {SAMPLE} (set HONDANA_MARC_SAMPLE to its path)")
    head = SAMPLE.read_bytes().split(b"\x1d")[:300]
    binary = tmp_path / "head.mrc"
    binary.write_bytes(b"".join(chunk + b"\x1d" for chunk in head))
    xml = tmp_path / "head.xml"
    with xml.open("wb") as out:
        writer = XMLWriter(out)
        for chunk in head:
            writer.write(Record(chunk + b"\x1d", force_utf8=True))
        writer.close(close_fh=False)
    from_binary = list(iter_marc_file(binary))
    assert len(from_binary) == 300
    assert list(iter_marc_file(xml)) == from_binary


# --- field rules on built records --------------------------------------------------------


def test_occurrence_numbers_pick_the_right_880() -> None:
    # Two 880s for the same tag, listed in the opposite order: each joins its own partner.
    record = make(
        field("650", "6", "880-02", "a", "Kyōiku.", ind=" 0"),
        field("650", "6", "880-01", "a", "Rekishi", "x", "Kenkyū.", ind=" 0"),
        field("880", "6", "650-01/$1", "a", "歴史", "x", "研究.", ind=" 0"),
        field("880", "6", "650-02/$1", "a", "教育.", ind=" 0"),
        field("880", "6", "500-00/$1", "a", "unlinked note"),
    )
    assert parse_record(record).subjects == ("Kyōiku", "教育", "Rekishi -- Kenkyū", "歴史 -- 研究")


def test_display_forms_and_punctuation() -> None:
    # 245 $a $b $n $p keep inner ISBD punctuation but lose the final one; NFC; no "[s.n.]".
    record = make(
        field("100", "6", "880-01", "a", "Bando\u0304, Takeo,", "d", "1957-", ind="1 "),
        field("880", "6", "100-01/$1", "a", "坂東健雄,", "d", "1957-", ind="1 "),
        field("260", "a", "[S.l.] :", "b", "[s.n.],", "c", "[1999?]"),
        field("490", "a", "Kenkyū sōsho ;", "v", "v. 3.", ind="1 "),
        title=None,
    )
    record.add_field(
        field("245", "a", "Nihon no rekishi :", "b", "kodai /", "c", "Bandō Takeo.", ind="10")
    )
    data = parse_record(record)
    assert data.title == "Nihon no rekishi : kodai"
    assert data.title_reading is None
    assert (data.responsibility, data.responsibility_reading) == ("坂東健雄", "Bandō, Takeo")
    assert (data.publisher, data.year) == (None, 1999)
    assert (data.series, data.volume) == ("Kenkyū sōsho", "v. 3")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Title /", "Title"),
        ("Tōkyō :", "Tōkyō"),
        ("Kodansha,", "Kodansha"),
        ("1999.", "1999"),
        ("  many   spaces ;", "many spaces"),
        ("Washington, D.C.", "Washington, D.C."),
        ("Comic books, strips, etc.", "Comic books, strips, etc."),
        ("Savchenko, T. N.", "Savchenko, T. N."),
        ("雨月物語．", "雨月物語"),
        ("\u200fمنطق /\u200f", "منطق"),
        ("[Dept. of Environment,", "[Dept. of Environment]"),
        (" / ", None),
        ("Ti\x00tle\x1b(B /", "Ti tle (B"),  # NUL and ESC become word breaks
        ("\x00\x07\x7f\x85", None),
    ],
)
def test_tidy(raw: str, expected: str | None) -> None:
    # Trailing ISBD punctuation goes; abbreviations, initials and brackets survive.
    assert tidy(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("4870889161 :", "9784870889163"),
        ("4-87088-916-1", "9784870889163"),
        ("ISBN 4-87088-916-1 (pbk.)", "9784870889163"),
        ("080442957X", "9780804429573"),
        ("080442957x (alk. paper)", "9780804429573"),
        ("978-4-87088-916-3", "9784870889163"),
        ("9791090636071", "9791090636071"),
        ("4870889162", None),  # ISBN-10 check digit wrong
        ("9784870889164", None),  # ISBN-13 check digit wrong
        ("9774870889163", None),  # 13 digits but not a Bookland prefix
        ("12345", None),
        ("", None),
    ],
)
def test_isbn_normalisation(raw: str, expected: str | None) -> None:
    # ISBN-10 (X included) and ISBN-13, hyphens or not, become 13 digits; bad checksums fail.
    assert isbn13(raw) == expected


def test_invalid_isbn_falls_through_to_the_next_020() -> None:
    # The first 020 has a wrong check digit, so the second one is the ISBN.
    record = make(field("020", "a", "4870889162"), field("020", "a", "0-8044-2957-X (pbk.)"))
    assert parse_record(record).isbn == "9780804429573"
    assert parse_record(make(field("020", "z", "4870889161"))).isbn is None


def test_subject_class_prefers_ndc() -> None:
    # NDC in 084 (LC writes the scheme as "njb") beats LCC, which beats DDC.
    ndc = field("084", "a", "726.1", "2", "njb/9")
    lcc = field("050", "a", "PN6790.J33", "b", "T35 1999", ind="00")
    ddc = field("082", "a", "895.6/344", "2", "21", ind="04")
    assert parse_record(make(lcc, ddc, ndc)).subject_class == "726.1"
    assert parse_record(make(ddc, lcc)).subject_class == "PN6790.J33"
    assert parse_record(make(ddc)).subject_class == "895.6344"
    assert parse_record(make(field("084", "a", "11.52", "2", "bcl"))).subject_class is None


def test_call_number_from_090_084_or_050() -> None:
    # STAFF-5: a copy's call number: local 090, else 084, else LC's 050, with the item number.
    local = field("090", "a", "913.6", "b", "ナ")
    ndc = field("084", "a", "726.1", "2", "njb/9")
    lcc = field("050", "a", "PN6790.J33", "b", "T35 1999", ind="00")
    assert parse_record(make(lcc, ndc, local)).call_number == "913.6 ナ"
    assert parse_record(make(lcc, ndc)).call_number == "726.1"
    assert parse_record(make(lcc)).call_number == "PN6790.J33 T35 1999"
    assert parse_record(make(field("082", "a", "895.6/344"))).call_number is None


def test_sample_call_numbers(sample: list[RecordData | Skipped]) -> None:
    # STAFF-5: the LC sample carries 050 on most records; the import keeps them.
    found = [r.call_number for r in sample if isinstance(r, RecordData)]
    assert sum(1 for c in found if c) > len(found) // 2
    assert all(c is None or 0 < len(c) <= 50 for c in found)


@pytest.mark.parametrize(
    ("leader67", "f007", "form", "extra", "expected"),
    [
        ("am", None, " ", None, "book"),
        ("tm", None, " ", None, "book"),
        ("as", None, " ", None, "magazine"),
        ("ai", None, " ", None, "magazine"),
        ("am", None, "o", None, "ebook"),
        ("am", None, "s", None, "ebook"),
        ("am", "cr |||||||||||", " ", None, "ebook"),
        # LC's print record of a digitised book: the 007 is the scan's, the 530 says so.
        ("am", "cr_|||||||||||", " ", "530", "book"),
        ("jm", "sd fsngnnmmned", " ", None, "cd"),
        ("im", "ss lunjlcmnnue", " ", None, "cassette"),
        ("jm", None, " ", None, "cd"),
        ("gm", "vd cvaizq", " ", None, "video"),
        ("km", None, " ", None, "art_reproduction"),
        ("mm", None, " ", None, "ebook"),
        ("em", None, " ", None, "book"),  # a map: anything else is a book
    ],
)
def test_material_types(
    leader67: str, f007: str | None, form: str, extra: str | None, expected: str
) -> None:
    # Leader/06-07, 007 and 008/23 choose the material type.
    fields = [Field(tag="007", data=f007)] if f007 else []
    if extra == "530":
        fields.append(field("530", "a", "Also available in digital form."))
    record = make(
        *fields, leader=f"00000n{leader67} a2200000 a 4500", f008=F008[:23] + form + F008[24:]
    )
    assert parse_record(record).material_type == expected


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ([field("655", "a", "Comic books, strips, etc.", "2", "lcsh", ind=" 7")], True),
        ([field("655", "a", "Graphic novels.", ind=" 0")], True),
        ([field("650", "a", "Baseball", "v", "Cartoons and comics.", ind=" 1")], True),
        ([field("600", "a", "Oda, Nobunaga,", "v", "Comic books, strips, etc.", ind="10")], True),
        ([field("650", "a", "Manga.", ind=" 7")], True),
        ([field("084", "a", "726.1", "2", "njb/9")], True),
        (
            [
                field("650", "6", "880-01", "a", "Rekishi", ind=" 7"),
                field("880", "6", "650-01/$1", "a", "漫画", ind=" 7"),
            ],
            True,
        ),
        # About comics, not comics: a topical subdivision, or the word inside another word.
        ([field("650", "a", "Comic books, strips, etc.", "x", "History and criticism.")], False),
        ([field("650", "a", "Wicomico River (Md.)", ind=" 0")], False),
        ([field("650", "a", "Comic, The.", ind=" 0")], False),
        ([field("084", "a", "726.5", "2", "njb/9")], False),
        ([], False),
    ],
)
def test_comic_detection(fields: list[Field], expected: bool) -> None:
    # Genre/subject headings and NDC 726.1 mark comics; books about comics are not comics.
    assert parse_record(make(*fields)).is_comic is expected


def test_records_without_001_or_245_raise_skip_record() -> None:
    # parse_record refuses a record it cannot key or title, with a readable reason.
    with pytest.raises(SkipRecord, match="control number"):
        parse_record(make(number="   "))
    with pytest.raises(SkipRecord, match="title"):
        parse_record(make(title=None))
    with pytest.raises(SkipRecord, match="title"):
        parse_record(make(field("245", "c", "by nobody."), title=None))


def test_control_characters_never_reach_the_catalogue() -> None:
    """MARC import keeps NUL and other control characters out of every text field: a
    title is what the OPAC shows a patron (「資料検索」), never bytes of a damaged file."""
    record = make(
        field("100", "a", "Nat\x00sume, S\x01\x02."),
        field("490", "a", "Series\x1f", "v", "上\x00"),
        field("650", "a", "Cats\x7f"),
        number="abc\x00001",
        title="吾輩は\x00猫である\x1b /",
    )
    data = parse_record(record)
    texts = [data.control_number, data.title, data.responsibility, data.series, data.volume]
    texts += list(data.subjects)
    assert all(t is None or not any(ord(c) < 32 or 127 <= ord(c) < 160 for c in t) for t in texts)
    assert data.title == "吾輩は 猫である" and data.control_number == "abc001"


# --- files -------------------------------------------------------------------------------


def test_bad_records_mid_file_are_skipped_and_the_rest_read(tmp_path: Path) -> None:
    # A record without 001 or 245, a garbage chunk, a record cut short before its terminator
    # and a truncated tail each become one Skipped; every good record still comes through.
    good = [make(number=f"good{i}", title=f"Good {i} /") for i in range(1, 6)]
    no_id, no_title = make(number=None), make(number="untitled", title=None)
    cut = make(number="cut").as_marc()[:60]
    data = (
        marc_bytes(good[0], no_id, no_title, good[1])
        + b"00099garbage that is not a MARC record\x1e\x1d"
        + cut  # no terminator: it runs into good[2], which must still be found
        + marc_bytes(good[2], good[3])
        + b"\r\n"  # some exports put line breaks between records
        + marc_bytes(good[4])
        + good[0].as_marc()[:100]
    )
    path = tmp_path / "mixed.mrc"
    path.write_bytes(data)
    items = list(iter_marc_file(path))
    summary = [
        (i.control_number, None) if isinstance(i, RecordData) else (i.control_number, i.reason)
        for i in items
    ]
    assert [number for number, _ in summary] == [
        "good1",
        None,
        "untitled",
        "good2",
        None,
        None,
        "good3",
        "good4",
        "good5",
        None,
    ]
    reasons = [reason for _, reason in summary]
    assert reasons[1] == "no control number (001)"
    assert reasons[2] == "no title (245)"
    assert reasons[4] is not None and reasons[4].startswith("unreadable record at byte ")
    assert reasons[5] is not None and reasons[5].startswith("unreadable record at byte ")
    assert reasons[9] is not None and "TruncatedRecord" in reasons[9]
    skipped = [i for i in items if isinstance(i, Skipped)]
    assert [s.position for s in skipped] == [2, 3, 5, 6, 10]


def test_empty_and_blank_files_yield_nothing(tmp_path: Path) -> None:
    # No records, no Skipped, no error.
    empty = tmp_path / "empty.mrc"
    empty.write_bytes(b"")
    blank = tmp_path / "blank.mrc"
    blank.write_bytes(b"\n\n")
    assert list(iter_marc_file(empty)) == []
    assert list(iter_marc_file(blank)) == []


def test_marc8_records_are_converted(tmp_path: Path) -> None:
    # Leader/09 blank means MARC-8: ANSEL diacritics and EACC kanji come out as Unicode.
    record = Record(to_unicode=False, leader="00000nam  2200000 a 4500")
    record.add_field(Field(tag="001", data="marc8"))
    record.add_field(Field(tag="008", data=F008))
    # ESC $ 1 switches to EACC (3 bytes per character: 東 21 44 26, 京 21 30 61); ESC ( B back.
    kanji = "\x1b$1" + "\x21\x44\x26\x21\x30\x61" + "\x1b(B"
    record.add_field(field("245", "6", "880-01", "a", "T\xe5oky\xe5o /", ind="10"))
    record.add_field(field("880", "6", "245-01/$1", "a", kanji + " /", ind="10"))
    path = tmp_path / "marc8.mrc"
    path.write_bytes(record.as_marc())
    assert path.read_bytes()[9:10] == b" "
    [item] = list(iter_marc_file(path))
    assert isinstance(item, RecordData)
    assert (item.title, item.title_reading) == ("東京", "Tōkyō")


def test_utf8_with_a_blank_leader_09_is_read_as_utf8(tmp_path: Path) -> None:
    # An exporter that writes UTF-8 but leaves leader/09 blank does not get mojibake.
    data = bytearray(make(field("260", "b", "和泉書院,"), title="上田秋成 /").as_marc())
    data[9:10] = b" "
    path = tmp_path / "mislabelled.mrc"
    path.write_bytes(bytes(data))
    [item] = list(iter_marc_file(path))
    assert isinstance(item, RecordData)
    assert (item.title, item.publisher) == ("上田秋成", "和泉書院")


def test_marcxml_round_trip(tmp_path: Path) -> None:
    # MARCXML (with a BOM) is detected and reads exactly like the same records in binary.
    records = [
        make(
            field("100", "6", "880-01", "a", "Bandō, Takeo.", ind="1 "),
            field("880", "6", "100-01/$1", "a", "坂東健雄.", ind="1 "),
            field("880", "6", "245-02/$1", "a", "雨月物語論 /", ind="10"),
            field("020", "a", "080442957X"),
            number="xml1",
            title=None,
        ),
        make(number="xml2", leader="00000nas a2200000 a 4500"),
    ]
    records[0].add_field(field("245", "6", "880-02", "a", "Ugetsu monogatari ron /", ind="10"))
    path = tmp_path / "records.xml"
    with path.open("wb") as out:
        out.write(b"\xef\xbb\xbf")
        writer = XMLWriter(out)
        for record in records:
            writer.write(record)
        writer.close(close_fh=False)
    items = list(iter_marc_file(path))
    assert items == [parse_record(r) for r in records]
    first, second = items
    assert isinstance(first, RecordData) and isinstance(second, RecordData)
    assert (first.title, first.title_reading, first.responsibility) == (
        "雨月物語論",
        "Ugetsu monogatari ron",
        "坂東健雄",
    )
    assert (first.isbn, second.material_type) == ("9780804429573", "magazine")


def test_broken_marcxml_is_reported_not_raised(tmp_path: Path) -> None:
    # A datafield without a tag spoils only its record; a file cut off mid-record ends with
    # a Skipped after every record that was complete.
    ns = 'xmlns="http://www.loc.gov/MARC21/slim"'

    def rec(number: str, extra: str = "") -> str:
        return (
            f'<record><leader>00000nam a2200000 a 4500</leader><controlfield tag="001">{number}'
            f'</controlfield><datafield tag="245" ind1="1" ind2="0"><subfield code="a">T {number} /'
            f"</subfield></datafield>{extra}</record>"
        )

    bad_field = '<datafield ind1=" " ind2=" "><subfield code="a">x</subfield></datafield>'
    path = tmp_path / "broken.xml"
    path.write_text(
        f"<?xml version='1.0' encoding='UTF-8'?>\n<collection {ns}>"
        + rec("x1")
        + rec("x2", bad_field)
        + rec("x3")
        + '<record><leader>short</leader><controlfield tag="001">x4</controlfield></record>'
        + rec("x5")[:90],
        encoding="utf-8",
    )
    items = list(iter_marc_file(path))
    assert [type(i).__name__ for i in items] == [
        "RecordData",
        "Skipped",
        "RecordData",
        "Skipped",
        "Skipped",
    ]
    assert isinstance(items[1], Skipped) and isinstance(items[3], Skipped)
    assert (items[1].control_number, items[1].position) == ("x2", 2)
    assert "without" in items[1].reason
    assert items[3].control_number == "x4" and "leader" in items[3].reason
    assert isinstance(items[4], Skipped) and items[4].reason.startswith("malformed XML at line")


def test_marcwriter_output_reads_back(tmp_path: Path) -> None:
    # Files written by pymarc's own MARCWriter read back one item per record.
    path = tmp_path / "written.mrc"
    with path.open("wb") as out:
        writer = MARCWriter(out)
        for i in range(3):
            writer.write(make(number=f"w{i}"))
    assert [i.control_number for i in iter_marc_file(path)] == ["w0", "w1", "w2"]
