"""Demo organisations and users (seed_demo). Idempotent: safe to run again."""

from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction

from accounts.models import Organisation, OrgKind, Role, User
from accounts.services import membership_grant, organisation_get_or_create


@dataclass
class DemoWorld:
    offices: dict[str, Organisation] = field(default_factory=dict)
    units: dict[str, Organisation] = field(default_factory=dict)
    suppliers: dict[str, Organisation] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)


OFFICES = [
    ("0001", "Kho bạc Nhà nước (Trung ương)", None),
    ("0100", "Kho bạc Nhà nước Nghệ An", "0001"),
    ("0101", "Kho bạc Nhà nước khu vực TP Vinh", "0100"),
    ("0200", "Kho bạc Nhà nước Hà Tĩnh", "0001"),
    ("0201", "Kho bạc Nhà nước khu vực TP Hà Tĩnh", "0200"),
]
UNITS = [
    ("1012345", "Trường THPT Huỳnh Thúc Kháng", "0101", "a"),
    ("1023456", "Bệnh viện Đa khoa thành phố Hà Tĩnh", "0201", "b"),
]
SUPPLIERS = [
    ("0100100079", "Tổng công ty Điện lực miền Bắc (EVNNPC)", "evn"),
    ("0100684378", "Viễn thông Nghệ An (VNPT)", "vnpt"),
    ("2900326342", "Công ty CP Cấp nước Nghệ An", "water"),
]
# username: (full name, organisation code, role)
TREASURY_USERS = {
    "officer": ("Nguyễn Văn Kiểm", "0100", Role.CONTROL_OFFICER),
    "officer2": ("Trần Thị Soát", "0100", Role.CONTROL_OFFICER),
    "approver": ("Lê Văn Duyệt", "0100", Role.APPROVER),
    "tadmin": ("Phạm Thị Quản", "0100", Role.ADMINISTRATOR),
    "officer_b": ("Hoàng Văn Hà", "0200", Role.CONTROL_OFFICER),
    "approver_b": ("Đặng Thị Tĩnh", "0200", Role.APPROVER),
    "tadmin_b": ("Võ Văn Trị", "0200", Role.ADMINISTRATOR),
}
UNIT_ROLE_USERS = [
    ("preparer", "Người lập", Role.PREPARER),
    ("chief", "Kế toán trưởng", Role.CHIEF_ACCOUNTANT),
    ("holder", "Chủ tài khoản", Role.ACCOUNT_HOLDER),
]


def _user(username: str, full_name: str) -> User:
    user = User.objects.filter(username=username).first()
    if user is None:
        last, _, first = full_name.rpartition(" ")
        user = User.objects.create_user(
            username=username, email=f"{username}@demo.treasury.example", password=settings.DEMO_PASSWORD,
            first_name=first, last_name=last,
        )
    return user


@transaction.atomic
def seed() -> DemoWorld:
    world = DemoWorld()
    for code, name, parent in OFFICES:
        world.offices[code] = organisation_get_or_create(
            kind=OrgKind.TREASURY_OFFICE, code=code, name=name, parent=world.offices.get(parent or "")
        )
    for code, name, office, prefix in UNITS:
        unit = organisation_get_or_create(kind=OrgKind.UNIT, code=code, name=name, office=world.offices[office])
        world.units[prefix] = unit
        for suffix, label, role in UNIT_ROLE_USERS:
            username = f"{prefix}_{suffix}"
            user = _user(username, f"{label} {prefix.upper()}")
            membership_grant(user=user, organisation=unit, role=role)
            world.users[username] = user
    for code, name, prefix in SUPPLIERS:
        supplier = organisation_get_or_create(kind=OrgKind.SUPPLIER, code=code, name=name)
        world.suppliers[prefix] = supplier
        user = _user(f"{prefix}_clerk", f"Nhân viên {prefix.upper()}")
        membership_grant(user=user, organisation=supplier, role=Role.SUPPLIER_CLERK)
        world.users[f"{prefix}_clerk"] = user
    for username, (full_name, code, role) in TREASURY_USERS.items():
        user = _user(username, full_name)
        membership_grant(user=user, organisation=world.offices[code], role=role)
        world.users[username] = user
    return world
