"""clean_answer and the streamed form of it (HeldHead): what a client sees while tokens
arrive must end as the answer returned."""

from ragtune.text.echo import HeldHead, clean_answer

LABELS = ["[1] Leave — Annual leave", "[2] VPN"]
QUESTION = "How many days of annual leave do new hires get?"


def stream(text: str, final: str | None = None) -> tuple[list[str], str]:
    sent: list[str] = []
    held = HeldHead(QUESTION, LABELS, sent.append)
    for word in text.split(" "):
        held(word + " ")
    final = clean_answer(QUESTION, text, LABELS) if final is None else final
    held.finish(final)
    return sent, final


def test_copied_label_and_echo_never_reach_the_stream() -> None:
    raw = (
        "[1] Leave — Annual leave How many days of annual leave do new hires get? "
        "New hires get 25 days. They ask HR."
    )
    sent, final = stream(raw)
    assert final == "New hires get 25 days. They ask HR. [1]"
    assert "".join(sent).strip() == final
    assert "Leave —" not in "".join(sent)


def test_plain_answer_streams_as_it_comes() -> None:
    sent, final = stream("New hires get 25 days [1]. They ask HR first.")
    pieces = [p for p in sent if p]
    assert len(pieces) > 3  # released after the first sentence, then word by word
    assert "".join(sent).strip() == final


def test_nothing_settled_sends_the_final_answer_whole() -> None:
    sent, _ = stream("[1] Leave — Annual leave", final="New hires get 25 days. [1]")
    assert [p for p in sent if p] == ["New hires get 25 days. [1]"]


def test_while_held_the_consumer_can_stop() -> None:
    calls: list[str] = []

    def send(piece: str) -> None:
        calls.append(piece)
        if len(calls) == 2:
            raise RuntimeError("client went away")

    held = HeldHead(QUESTION, LABELS, send)
    held("[1] ")
    try:
        held("Leave ")
    except RuntimeError:
        pass
    else:
        raise AssertionError("the consumer's stop was swallowed")
    assert calls == ["", ""]


def test_a_number_the_question_lacks_is_an_answer() -> None:
    from ragtune.text.echo import restates

    assert not restates(QUESTION, "New hires get 25 days.")
    assert restates(QUESTION, "New hires get days of annual leave.")
