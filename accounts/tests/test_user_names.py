from accounts.models import User


def test_full_name_puts_the_family_name_first():
    user = User(username="kiem", last_name="Nguyễn Văn", first_name="Kiểm")
    assert user.get_full_name() == "Nguyễn Văn Kiểm"
    assert str(user) == "Nguyễn Văn Kiểm"


def test_a_user_without_names_is_shown_by_username():
    user = User(username="kiem")
    assert user.get_full_name() == ""
    assert str(user) == "kiem"


def test_only_a_given_name():
    assert User(username="x", first_name="Lan").get_full_name() == "Lan"
