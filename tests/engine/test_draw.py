"""The fair draw (commit-reveal) and the draw record: rulebook vectors, properties, verification."""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
import random
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from liandong.engine import draw
from liandong.engine.draw import (
    DrawRecord,
    MalformedDrawRecord,
    commitment,
    draw_pick,
    draw_position,
    draw_split,
    make_secret,
    pick,
    position,
    split_equal,
    split_random,
    stream,
    verify_draw_file,
    verify_record,
)

SECRET_ONE = "00" * 31 + "01"
COMMIT_ONE = "ec4916dd28fc4c10d78e287ca5d9cc51ee1ae73cbfde08c6b37324cbfaac8bc5"
SECRET_TWO = "00" * 31 + "02"
COMMIT_TWO = "9267d3dbed802941483f1afa2a6bc68de5f653128aca9bf1461c5d0a3ad36ed2"
SECRET_LIANDONG = hashlib.sha256(b"liandong").hexdigest()
G1_ENTRIES = ["e1", "e2", "e3", "e4", "e5"]

RULEBOOK_RECORD: dict[str, Any] = {
    "campaign": "g1",
    "operation": "pick",
    "k": 2,
    "entries": ["e1", "e2", "e3", "e4", "e5"],
    "commitment": "ec4916dd28fc4c10d78e287ca5d9cc51ee1ae73cbfde08c6b37324cbfaac8bc5",
    "secret": "0000000000000000000000000000000000000000000000000000000000000001",
    "result": ["e1", "e5"],
}

# --------------------------------------------------------------------------- the rulebook's algorithm, written apart
# From /work/shared/spec/campaigns.md ("The fair draw"), not from liandong.engine.draw: the properties below compare
# the engine with these on any input.


def rulebook_stream(secret: str, campaign: str, entries: list[str], j: int) -> int:
    message = f"{campaign}|{','.join(entries)}|{j}".encode()
    return int.from_bytes(hmac.new(bytes.fromhex(secret), message, hashlib.sha256).digest(), "big")


def rulebook_pick(secret: str, campaign: str, entries: list[str], k: int) -> list[str]:
    """Fisher-Yates on the entries in join order: r = stream(j) % (n - j), swap items j and j + r."""
    items = list(entries)
    for j in range(k):
        r = rulebook_stream(secret, campaign, entries, j) % (len(items) - j)
        items[j], items[j + r] = items[j + r], items[j]
    return items[:k]


def rulebook_split_random(secret: str, campaign: str, entries: list[str], amount: int) -> list[int]:
    """Double mean: cap = floor(2 * M_left / n_left); 1 + stream(j) % (cap - 1) when cap > 1, else 1; the last
    person gets what is left."""
    left, shares = amount, []
    for j in range(len(entries) - 1):
        cap = 2 * left // (len(entries) - j)
        share = 1 + rulebook_stream(secret, campaign, entries, j) % (cap - 1) if cap > 1 else 1
        shares.append(share)
        left -= share
    return [*shares, left]


def rulebook_split_equal(amount: int, n: int) -> list[int]:
    return [amount // n + (1 if i < amount % n else 0) for i in range(n)]


def rulebook_position(secret: str, campaign: str, win_from: int, win_to: int) -> int:
    return win_from + rulebook_stream(secret, campaign, [], 0) % (win_to - win_from + 1)


def test_the_reference_algorithm_gives_the_rulebook_test_vectors() -> None:
    # so that the properties comparing the engine with it compare with the rulebook
    assert rulebook_pick(SECRET_ONE, "g1", G1_ENTRIES, 2) == ["e1", "e5"]
    assert rulebook_split_random(SECRET_ONE, "r1", ["a", "b", "c"], 1000) == [661, 243, 96]
    assert rulebook_split_equal(1000, 3) == [334, 333, 333]
    assert rulebook_position(SECRET_ONE, "b1", 7, 24) == 10
    assert rulebook_split_random(SECRET_LIANDONG, "r2", ["a", "b", "c", "d", "e"], 5) == [1, 1, 1, 1, 1]
    assert hashlib.sha256(bytes.fromhex(SECRET_ONE)).hexdigest() == COMMIT_ONE


secrets_hex = st.binary(min_size=32, max_size=32).map(bytes.hex)
entry_lists = st.lists(st.text(alphabet="abcdefghijkmnpqrstuvwxyz0123456789-", min_size=1, max_size=6), unique=True)
campaign_ids = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-_", min_size=1, max_size=12)


# --------------------------------------------------------------------------- rulebook test vectors


def test_commitment_of_secret_one_is_the_published_sha256() -> None:
    assert commitment(SECRET_ONE) == COMMIT_ONE


def test_pick_two_of_five_in_g1_draws_e1_then_e5() -> None:
    assert pick(SECRET_ONE, "g1", G1_ENTRIES, 2) == ["e1", "e5"]


def test_random_split_of_ten_yuan_among_a_b_c_in_r1_gives_6_61_2_43_0_96() -> None:
    assert split_random(SECRET_ONE, "r1", ["a", "b", "c"], 1000) == [661, 243, 96]


def test_equal_split_of_ten_yuan_among_three_gives_the_leftover_fen_to_the_first() -> None:
    assert split_equal(1000, 3) == [334, 333, 333]


def test_blind_box_b1_prize_in_window_7_to_24_is_box_10() -> None:
    assert position(SECRET_ONE, "b1", 7, 24) == 10


def test_random_split_of_five_fen_among_five_gives_one_fen_each() -> None:
    assert split_random(SECRET_LIANDONG, "r2", ["a", "b", "c", "d", "e"], 5) == [1, 1, 1, 1, 1]


def test_module_docstring_worked_example_runs() -> None:
    import doctest

    failures, attempted = doctest.testmod(draw)
    assert (failures, attempted) == (0, 7)


# --------------------------------------------------------------------------- the primitives


def test_stream_is_hmac_sha256_of_campaign_entries_and_index_as_big_endian_int() -> None:
    digest = hmac.new(bytes.fromhex(SECRET_ONE), b"g1|e1,e2,e3,e4,e5|1", hashlib.sha256).digest()
    assert stream(SECRET_ONE, "g1", G1_ENTRIES, 1) == int.from_bytes(digest, "big")


def test_stream_for_a_blind_box_has_an_empty_entries_part() -> None:
    digest = hmac.new(bytes.fromhex(SECRET_ONE), b"b1||0", hashlib.sha256).digest()
    assert stream(SECRET_ONE, "b1", [], 0) == int.from_bytes(digest, "big")


def test_make_secret_is_64_lowercase_hex_and_fresh_each_time() -> None:
    first, second = make_secret(), make_secret()
    assert len(first) == 64
    assert all(c in "0123456789abcdef" for c in first)
    assert first != second


@pytest.mark.parametrize("bad", ["", "01", "zz" * 32, "00" * 33, SECRET_ONE + " "])
def test_a_secret_that_is_not_64_hex_characters_is_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="64 hex characters"):
        commitment(bad)


def test_pick_more_than_there_are_entries_is_refused() -> None:
    with pytest.raises(ValueError, match="cannot pick 6 of 5 entries"):
        pick(SECRET_ONE, "g1", G1_ENTRIES, 6)


def test_random_split_of_less_than_a_fen_each_is_refused() -> None:
    with pytest.raises(ValueError, match=r"cannot split 0\.04 among 5"):
        split_random(SECRET_ONE, "r2", ["a", "b", "c", "d", "e"], 4)


def test_split_among_nobody_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one entry"):
        split_random(SECRET_ONE, "r2", [], 100)
    with pytest.raises(ValueError, match="at least one entry"):
        split_equal(100, 0)


def test_position_in_an_empty_window_is_refused() -> None:
    with pytest.raises(ValueError, match=r"empty window 24\.\.7"):
        position(SECRET_ONE, "b1", 24, 7)


# --------------------------------------------------------------------------- properties


@given(secret=secrets_hex, campaign=campaign_ids, entries=entry_lists.filter(bool), data=st.data())
def test_random_split_sums_to_the_amount_and_every_share_is_at_least_one_fen(
    secret: str, campaign: str, entries: list[str], data: st.DataObject
) -> None:
    amount = data.draw(st.integers(min_value=len(entries), max_value=10_000_000))
    shares = split_random(secret, campaign, entries, amount)
    assert len(shares) == len(entries)
    assert sum(shares) == amount
    assert min(shares) >= 1


@given(n=st.integers(min_value=1, max_value=500), data=st.data())
def test_equal_split_sums_differs_by_at_most_a_fen_and_puts_larger_shares_first(n: int, data: st.DataObject) -> None:
    amount = data.draw(st.integers(min_value=n, max_value=10_000_000))
    shares = split_equal(amount, n)
    assert len(shares) == n
    assert sum(shares) == amount
    assert min(shares) >= 1
    assert max(shares) - min(shares) <= 1
    assert shares == sorted(shares, reverse=True)


@given(secret=secrets_hex, campaign=campaign_ids, entries=entry_lists, data=st.data())
def test_pick_returns_k_distinct_members_of_the_entries(
    secret: str, campaign: str, entries: list[str], data: st.DataObject
) -> None:
    k = data.draw(st.integers(min_value=0, max_value=len(entries)))
    winners = pick(secret, campaign, entries, k)
    assert len(winners) == k
    assert len(set(winners)) == k
    assert set(winners) <= set(entries)


@given(secret=secrets_hex, campaign=campaign_ids, entries=entry_lists.filter(bool), data=st.data())
def test_pick_split_and_position_are_the_rulebook_algorithm_on_any_input(
    secret: str, campaign: str, entries: list[str], data: st.DataObject
) -> None:
    k = data.draw(st.integers(min_value=0, max_value=len(entries)))
    amount = data.draw(st.integers(min_value=len(entries), max_value=100_000))
    win_from = data.draw(st.integers(min_value=1, max_value=30))
    win_to = data.draw(st.integers(min_value=win_from, max_value=60))
    assert pick(secret, campaign, entries, k) == rulebook_pick(secret, campaign, entries, k)
    assert split_random(secret, campaign, entries, amount) == rulebook_split_random(secret, campaign, entries, amount)
    assert split_equal(amount, len(entries)) == rulebook_split_equal(amount, len(entries))
    assert position(secret, campaign, win_from, win_to) == rulebook_position(secret, campaign, win_from, win_to)
    assert stream(secret, campaign, entries, k) == rulebook_stream(secret, campaign, entries, k)


@given(secret=secrets_hex)
def test_the_commitment_is_the_sha256_of_the_secrets_bytes(secret: str) -> None:
    assert commitment(secret) == hashlib.sha256(bytes.fromhex(secret)).hexdigest()


#: The chi-square 0.999 quantile for 17 degrees of freedom (18 boxes): above it, "uniform" is rejected.
CHI_SQUARE_18_BOXES = 40.790


def chi_square(counts: list[int]) -> float:
    expected = sum(counts) / len(counts)
    return sum((count - expected) ** 2 / expected for count in counts)


def test_blind_box_positions_stay_in_the_window_and_are_uniform() -> None:
    rng = random.Random(20240521)  # fixed seed: deterministic, cannot flake
    win_from, win_to = 7, 24
    counts = [0] * (win_to - win_from + 1)
    for i in range(20_000):
        secret = rng.getrandbits(256).to_bytes(32, "big").hex()
        box = position(secret, f"b{i}", win_from, win_to)
        assert win_from <= box <= win_to
        counts[box - win_from] += 1
    assert min(counts) > 0
    assert chi_square(counts) < CHI_SQUARE_18_BOXES, counts
    from scipy.stats import chisquare

    assert abs(float(chisquare(counts).statistic) - chi_square(counts)) < 1e-6  # the statistic is the textbook one


def test_the_uniformity_check_rejects_a_draw_biased_to_the_low_boxes() -> None:
    # r % 18 over 0..31 (a 5-bit stream): boxes 0..13 come twice as often as 14..17
    rng = random.Random(7)
    counts = [0] * 18
    for _ in range(20_000):
        counts[rng.getrandbits(5) % 18] += 1
    assert chi_square(counts) > CHI_SQUARE_18_BOXES


# --------------------------------------------------------------------------- the draw record


def test_draw_pick_record_is_exactly_the_rulebook_json() -> None:
    record = draw_pick(SECRET_ONE, "g1", G1_ENTRIES, 2)
    obj = record.to_json()
    assert obj == RULEBOOK_RECORD
    assert list(obj) == ["campaign", "operation", "k", "entries", "commitment", "secret", "result"]


def test_draw_split_random_record_has_two_decimal_amount_and_shares() -> None:
    obj = draw_split(SECRET_ONE, "r1", ["a", "b", "c"], 1000).to_json()
    assert obj == {
        "campaign": "r1",
        "operation": "split_random",
        "amount": "10.00",
        "entries": ["a", "b", "c"],
        "commitment": COMMIT_ONE,
        "secret": SECRET_ONE,
        "result": ["6.61", "2.43", "0.96"],
    }
    assert list(obj) == ["campaign", "operation", "amount", "entries", "commitment", "secret", "result"]


def test_draw_split_equal_record_needs_no_secret() -> None:
    record = draw_split(None, "r3", ["a", "b", "c"], 1000, "equal")
    assert record.to_json() == {
        "campaign": "r3",
        "operation": "split_equal",
        "amount": "10.00",
        "entries": ["a", "b", "c"],
        "commitment": None,
        "secret": None,
        "result": ["3.34", "3.33", "3.33"],
    }
    assert verify_record(record) == []


def test_draw_split_random_without_a_secret_is_refused() -> None:
    with pytest.raises(ValueError, match="needs a secret"):
        draw_split(None, "r1", ["a", "b", "c"], 1000)


def test_draw_position_record_has_the_window_no_entries_and_the_box_number() -> None:
    obj = draw_position(SECRET_ONE, "b1", 7, 24).to_json()
    assert obj == {
        "campaign": "b1",
        "operation": "position",
        "window": [7, 24],
        "entries": [],
        "commitment": COMMIT_ONE,
        "secret": SECRET_ONE,
        "result": 10,
    }


def test_money_is_formatted_with_exactly_two_decimals() -> None:
    record = draw_split(SECRET_LIANDONG, "r2", ["a", "b", "c", "d", "e"], 5)
    assert record.amount == "0.05"
    assert record.result == ["0.01", "0.01", "0.01", "0.01", "0.01"]
    assert draw_split(None, "r4", ["a"], 123_456_789, "equal").result == ["1234567.89"]


#: Each record with its result as the rulebook's test vectors give it (r5: an equal split ignores the secret).
RECORDS_AND_RULEBOOK_RESULTS: list[tuple[DrawRecord, object]] = [
    (draw_pick(SECRET_ONE, "g1", G1_ENTRIES, 2), ["e1", "e5"]),
    (draw_split(SECRET_ONE, "r1", ["a", "b", "c"], 1000), ["6.61", "2.43", "0.96"]),
    (draw_split(None, "r3", ["a", "b", "c"], 1000, "equal"), ["3.34", "3.33", "3.33"]),
    (draw_split(SECRET_ONE, "r5", ["a", "b", "c"], 1000, "equal"), ["3.34", "3.33", "3.33"]),
    (draw_position(SECRET_ONE, "b1", 7, 24), 10),
    (draw_split(SECRET_LIANDONG, "r2", ["a", "b", "c", "d", "e"], 5), ["0.01"] * 5),
]


def _all_records() -> list[DrawRecord]:
    return [record for record, _result in RECORDS_AND_RULEBOOK_RESULTS]


@pytest.mark.parametrize(("record", "result"), RECORDS_AND_RULEBOOK_RESULTS,
                         ids=[f"{r.operation}-{r.campaign}" for r, _ in RECORDS_AND_RULEBOOK_RESULTS])
def test_record_has_the_rulebook_result_round_trips_through_json_and_verifies(record: DrawRecord,
                                                                              result: object) -> None:
    assert record.to_json()["result"] == result
    back = DrawRecord.from_json(json.loads(json.dumps(record.to_json())))
    assert back == record
    assert verify_record(back) == []


@given(secret=secrets_hex, campaign=campaign_ids, entries=entry_lists.filter(bool), data=st.data())
@settings(max_examples=50)
def test_any_drawn_record_round_trips_and_verifies(
    secret: str, campaign: str, entries: list[str], data: st.DataObject
) -> None:
    k = data.draw(st.integers(min_value=0, max_value=len(entries)))
    amount = data.draw(st.integers(min_value=len(entries), max_value=1_000_000))
    win_from = data.draw(st.integers(min_value=1, max_value=30))
    win_to = data.draw(st.integers(min_value=win_from, max_value=60))
    yuan = [f"{share // 100}.{share % 100:02d}" for share in rulebook_split_random(secret, campaign, entries, amount)]
    equal = [f"{share // 100}.{share % 100:02d}" for share in rulebook_split_equal(amount, len(entries))]
    for record, result in (
        (draw_pick(secret, campaign, entries, k), rulebook_pick(secret, campaign, entries, k)),
        (draw_split(secret, campaign, entries, amount), yuan),
        (draw_split(secret, campaign, entries, amount, "equal"), equal),
        (draw_position(secret, campaign, win_from, win_to), rulebook_position(secret, campaign, win_from, win_to)),
    ):
        assert record.result == result
        assert record.commitment in (hashlib.sha256(bytes.fromhex(secret)).hexdigest(), None)
        back = DrawRecord.from_json(json.loads(json.dumps(record.to_json())))
        assert back == record
        assert verify_record(back) == []


# --------------------------------------------------------------------------- tampering


def _rulebook() -> DrawRecord:
    return DrawRecord.from_json(RULEBOOK_RECORD)


def test_tampered_result_is_reported() -> None:
    record = dataclasses.replace(_rulebook(), result=["e2", "e5"])
    assert verify_record(record) == ["result: recomputed ['e1', 'e5'] but the record says ['e2', 'e5']"]


def test_tampered_secret_is_reported_as_commitment_and_result_mismatch() -> None:
    record = dataclasses.replace(_rulebook(), secret=SECRET_TWO)
    assert verify_record(record) == [
        f"commitment: sha256(secret) is {COMMIT_TWO} but the record says {COMMIT_ONE}",
        "result: recomputed ['e5', 'e4'] but the record says ['e1', 'e5']",
    ]


def test_tampered_commitment_is_reported() -> None:
    record = dataclasses.replace(_rulebook(), commitment=COMMIT_TWO)
    assert verify_record(record) == [f"commitment: sha256(secret) is {COMMIT_ONE} but the record says {COMMIT_TWO}"]


def test_tampered_entry_is_reported() -> None:
    record = dataclasses.replace(_rulebook(), entries=["e1", "e2", "e3", "e4", "x5"])
    assert verify_record(record) == ["result: recomputed ['e3', 'x5'] but the record says ['e1', 'e5']"]


def test_tampered_k_is_reported() -> None:
    record = dataclasses.replace(_rulebook(), k=3)
    assert verify_record(record) == ["result: recomputed ['e1', 'e5', 'e4'] but the record says ['e1', 'e5']"]


def test_k_larger_than_the_entries_is_reported_not_raised() -> None:
    record = dataclasses.replace(_rulebook(), k=6)
    assert verify_record(record) == ["k: cannot pick 6 of 5 entries; the result cannot be recomputed"]


def test_tampered_amount_is_reported() -> None:
    record = dataclasses.replace(draw_split(SECRET_ONE, "r1", ["a", "b", "c"], 1000), amount="9.99")
    assert verify_record(record) == [
        "result: recomputed ['6.61', '2.21', '1.17'] but the record says ['6.61', '2.43', '0.96']"
    ]


def test_tampered_equal_split_share_is_reported() -> None:
    record = dataclasses.replace(draw_split(None, "r3", ["a", "b", "c"], 1000, "equal"), result=["3.33"] * 3)
    assert verify_record(record) == [
        "result: recomputed ['3.34', '3.33', '3.33'] but the record says ['3.33', '3.33', '3.33']"
    ]


def test_tampered_window_is_reported() -> None:
    record = dataclasses.replace(draw_position(SECRET_ONE, "b1", 7, 24), window=(11, 24))
    assert rulebook_position(SECRET_ONE, "b1", 11, 24) == 18
    assert verify_record(record) == ["result: recomputed 18 but the record says 10"]


def test_equal_split_with_a_commitment_but_no_secret_is_reported() -> None:
    record = dataclasses.replace(draw_split(None, "r3", ["a", "b", "c"], 1000, "equal"), commitment=COMMIT_ONE)
    assert verify_record(record) == ["secret: the record has a commitment but no secret to check it against"]


# --------------------------------------------------------------------------- malformed records


def _without(key: str) -> dict[str, Any]:
    return {k: v for k, v in RULEBOOK_RECORD.items() if k != key}


@pytest.mark.parametrize(
    ("obj", "key", "message"),
    [
        (_without("secret"), "secret", "missing key 'secret'"),
        (_without("k"), "k", "missing key 'k'"),
        (_without("operation"), "operation", "missing key 'operation'"),
        ({**RULEBOOK_RECORD, "k": "2"}, "k", "key 'k': expected an integer, got \"2\""),
        ({**RULEBOOK_RECORD, "k": True}, "k", "key 'k': expected an integer, got true"),
        ({**RULEBOOK_RECORD, "operation": "raffle"}, "operation", 'got "raffle"'),
        ({**RULEBOOK_RECORD, "secret": "01"}, "secret", "key 'secret': expected 64 hex characters"),
        ({**RULEBOOK_RECORD, "secret": None}, "secret", "only split_equal may leave it null"),
        ({**RULEBOOK_RECORD, "entries": "e1,e2"}, "entries", "key 'entries': expected a list of strings"),
        ({**RULEBOOK_RECORD, "result": "e1"}, "result", "key 'result': expected a list of entry ids"),
        ({**RULEBOOK_RECORD, "amount": "10.00"}, "amount", "key 'amount' does not belong to a pick record"),
        (
            {**draw_split(SECRET_ONE, "r1", ["a"], 1000).to_json(), "amount": "10.0"},
            "amount",
            "key 'amount': expected a two-decimal string",
        ),
        (
            {**draw_split(SECRET_ONE, "r1", ["a"], 1000).to_json(), "result": ["10"]},
            "result",
            "key 'result': expected a list of two-decimal strings",
        ),
        (
            {**draw_position(SECRET_ONE, "b1", 7, 24).to_json(), "window": [7]},
            "window",
            "key 'window': expected two integers [from, to], got [7]",
        ),
        (
            {**draw_position(SECRET_ONE, "b1", 7, 24).to_json(), "entries": ["e1"]},
            "entries",
            "no entries for a position draw",
        ),
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_malformed_record_names_the_key(obj: dict[str, Any], key: str, message: str) -> None:
    with pytest.raises(MalformedDrawRecord) as caught:
        DrawRecord.from_json(obj)
    assert caught.value.key == key
    assert message in str(caught.value)
    assert isinstance(caught.value, ValueError)


def test_position_record_may_leave_out_entries() -> None:
    obj = {k: v for k, v in draw_position(SECRET_ONE, "b1", 7, 24).to_json().items() if k != "entries"}
    record = DrawRecord.from_json(obj)
    assert record.entries == []
    assert verify_record(record) == []


# --------------------------------------------------------------------------- verify_draw_file


def _write(tmp_path: Path, content: object) -> Path:
    path = tmp_path / "draws.json"
    path.write_text(content if isinstance(content, str) else json.dumps(content), encoding="utf-8")
    return path


def test_verify_draw_file_accepts_a_good_list(tmp_path: Path) -> None:
    path = _write(tmp_path, [r.to_json() for r in _all_records()])
    assert verify_draw_file(path) == (0, "6 records verified")


def test_verify_draw_file_accepts_a_single_record(tmp_path: Path) -> None:
    assert verify_draw_file(_write(tmp_path, RULEBOOK_RECORD)) == (0, "1 record verified")


def test_verify_draw_file_accepts_replay_json_with_a_draws_list(tmp_path: Path) -> None:
    path = _write(tmp_path, {"draws": [r.to_json() for r in _all_records()], "ledger": []})
    assert verify_draw_file(path) == (0, "6 records verified")


def test_verify_draw_file_names_the_first_tampered_record(tmp_path: Path) -> None:
    objs = [r.to_json() for r in _all_records()]
    objs[1]["result"] = ["6.60", "2.44", "0.96"]
    objs[4]["result"] = 11
    path = _write(tmp_path, objs)
    code, message = verify_draw_file(path)
    assert code == 1
    assert message == (
        f"{path}: record 1 (campaign 'r1', split_random) does not match: "
        "result: recomputed ['6.61', '2.43', '0.96'] but the record says ['6.60', '2.44', '0.96']"
    )


def test_verify_draw_file_reports_a_tampered_commitment(tmp_path: Path) -> None:
    path = _write(tmp_path, {**RULEBOOK_RECORD, "commitment": COMMIT_TWO})
    code, message = verify_draw_file(path)
    assert code == 1
    assert message == (
        f"{path}: record 0 (campaign 'g1', pick) does not match: "
        f"commitment: sha256(secret) is {COMMIT_ONE} but the record says {COMMIT_TWO}"
    )


def test_verify_draw_file_refuses_a_file_that_is_not_json(tmp_path: Path) -> None:
    path = _write(tmp_path, "{'campaign': 'g1',")
    code, message = verify_draw_file(path)
    assert code == 2
    assert message.startswith(f"{path}: not valid JSON: ")


def test_verify_draw_file_names_a_missing_secret(tmp_path: Path) -> None:
    objs = [r.to_json() for r in _all_records()]
    del objs[4]["secret"]
    path = _write(tmp_path, objs)
    assert verify_draw_file(path) == (2, f"{path}: malformed draw record: record 4: missing key 'secret'")


def test_verify_draw_file_names_a_k_that_is_not_an_integer(tmp_path: Path) -> None:
    path = _write(tmp_path, {**RULEBOOK_RECORD, "k": 2.0})
    assert verify_draw_file(path) == (2, f"{path}: malformed draw record: key 'k': expected an integer, got 2.0")


def test_verify_draw_file_reports_malformed_before_mismatched(tmp_path: Path) -> None:
    objs = [r.to_json() for r in _all_records()]
    objs[0]["result"] = ["e2", "e5"]
    objs[3]["k"] = "2"
    path = _write(tmp_path, objs)
    assert verify_draw_file(path) == (
        2,
        f"{path}: malformed draw record: record 3: key 'k' does not belong to a split_equal record",
    )


def test_verify_draw_file_refuses_a_missing_file(tmp_path: Path) -> None:
    code, message = verify_draw_file(tmp_path / "nope.json")
    assert code == 2
    assert message.startswith(f"{tmp_path / 'nope.json'}: cannot read the file: ")
