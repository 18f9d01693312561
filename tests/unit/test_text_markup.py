from personae.text import letter_count, without_actions


def test_without_actions_keeps_what_is_said() -> None:
    assert without_actions("*She smiles.* 네, 맞아요!").split() == ["네,", "맞아요!"]
    assert without_actions("no actions here") == "no actions here"
    # An unclosed asterisk or one across lines is not an action.
    assert without_actions("a * b") == "a * b"
    assert without_actions("*a\nb*") == "*a\nb*"


def test_letter_count_counts_letters_of_any_script() -> None:
    assert letter_count("Hi, 민지! 2") == 4
    assert letter_count("... 123 !") == 0
