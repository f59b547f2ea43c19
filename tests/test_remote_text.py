"""The pure parts of the model-server client: cutting a stream into sentences, making them speakable,
reading the server address and deciding where plain HTTP may go. No server, no network."""

from __future__ import annotations

import pytest

from assistant.remote.address import check_transport, is_private_address, parse_server_url
from assistant.remote.errors import ServerAddressError
from assistant.remote.sentences import SentenceSplitter, speakable


def _stream(pieces: list[str]) -> list[tuple[int, str]]:
    """(index of the piece that completed it, sentence) for each sentence, then the rest at the end."""
    splitter = SentenceSplitter()
    out = [(index, sentence) for index, piece in enumerate(pieces) for sentence in splitter.feed(piece)]
    return out + [(len(pieces), sentence) for sentence in splitter.finish()]


def test_a_sentence_is_complete_when_the_next_token_starts_with_a_space() -> None:
    pieces = ["A red", " mug.", " Behind", " it, a sign", " reads EXIT", "."]
    assert _stream(pieces) == [(2, "A red mug."), (6, "Behind it, a sign reads EXIT.")]


def test_numbers_abbreviations_initials_and_list_numbers_do_not_end_a_sentence() -> None:
    pieces = ["It costs 3", ".50 euros, e.g. at Dr. Jones", " by J. Smith. ", "1. Milk", "\n2. Eggs"]
    assert [sentence for _, sentence in _stream(pieces)] == [
        "It costs 3.50 euros, e.g. at Dr. Jones by J. Smith.",
        "1. Milk",
        "2. Eggs",
    ]


def test_question_and_exclamation_marks_with_closing_quotes_end_sentences() -> None:
    assert [s for _, s in _stream(['The sign says "Stop!" ', "Is it red? Yes."])] == [
        'The sign says "Stop!"',
        "Is it red?",
        "Yes.",
    ]


def test_a_very_long_sentence_is_cut_at_a_clause_so_the_voice_is_not_kept_waiting() -> None:
    splitter = SentenceSplitter(long_sentence=60)
    parts = splitter.feed("There is a table, a chair, a lamp, a shelf with books, a plant and a rug ")
    assert parts and parts[0].endswith(",") and len(parts[0]) <= 80


def test_speakable_drops_markup_and_the_image_shows_preamble() -> None:
    assert speakable("**The image shows** a cat on a sofa.") == "A cat on a sofa."
    assert speakable("- In this picture, two people talk.") == "Two people talk."
    assert speakable("## Text") == "Text"
    assert speakable("`EXIT` is written above the door.") == "EXIT is written above the door."


@pytest.mark.parametrize(
    ("typed", "base_url", "display"),
    [
        ("gpu-box:8000", "http://gpu-box:8000/v1", "gpu-box:8000"),
        ("http://10.0.0.5:8000/v1/", "http://10.0.0.5:8000/v1", "10.0.0.5:8000"),
        ("https://llm.example.org", "https://llm.example.org/v1", "llm.example.org"),
        ("http://user:secret@[fd00::5]:11434/api/v1", "http://[fd00::5]:11434/api/v1", "[fd00::5]:11434"),
    ],
)
def test_server_addresses_are_read_the_way_people_type_them(typed: str, base_url: str, display: str) -> None:
    address = parse_server_url(typed)
    assert (address.base_url, address.display) == (base_url, display)


@pytest.mark.parametrize("typed", ["", "ftp://box", "http://", "http://box:99999"])
def test_unusable_addresses_are_one_clear_error(typed: str) -> None:
    with pytest.raises(ServerAddressError):
        parse_server_url(typed)


def test_plain_http_goes_only_to_this_machine_and_the_local_network() -> None:
    assert is_private_address("127.0.0.1") and is_private_address("192.168.1.20")
    assert is_private_address("fd00::1") and is_private_address("169.254.3.4")
    assert not is_private_address("8.8.8.8") and not is_private_address("gpu-box")

    def never(host: str) -> list[str]:
        raise AssertionError(f"looked up {host}")

    for allowed in ("http://localhost:8000", "http://10.1.2.3:8000", "https://8.8.8.8"):
        check_transport(parse_server_url(allowed), resolve=never)
    check_transport(parse_server_url("http://gpu-box.lan:8000"), resolve=lambda host: ["192.168.1.20"])
    with pytest.raises(ServerAddressError, match="unencrypted"):
        check_transport(parse_server_url("http://8.8.8.8:8000"), resolve=never)
    with pytest.raises(ServerAddressError, match="unencrypted"):
        check_transport(
            parse_server_url("http://llm.example.org"), resolve=lambda host: ["192.168.1.2", "93.184.215.14"]
        )
    check_transport(parse_server_url("http://8.8.8.8:8000"), allow_insecure=True, resolve=never)
