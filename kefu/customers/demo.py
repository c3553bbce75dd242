"""Demo products and installed units (``kefu run --demo``), and the context every app's demo
loader receives.

Run by the demo (``kefu.demo.load``) after its base data, through the actions like everything
else in the demo; the tickets' demo links some tickets to these units.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.utils import timezone

from kefu.accounts.models import Group, User
from kefu.customers.actions import create_asset, create_product
from kefu.customers.models import AssetStatus, Contact, Organization, Product

# model number, name, category, warranty months, description
PRODUCTS = (
    (
        "LP-3300",
        "激光打印机 LP-3300",
        "打印机 Printers",
        24,
        "A4 黑白激光打印机，双面打印，网络接口。",
    ),
    ("LP-5100C", "彩色激光打印机 LP-5100C", "打印机 Printers", 24, "A4 彩色激光打印机。"),
    (
        "KF-200",
        "显示控制器 KF-200",
        "显示控制器 Display controllers",
        36,
        "LED 大屏显示控制器，支持 4K 输入。",
    ),
    (
        "KF-400",
        "显示控制器 KF-400 Pro",
        "显示控制器 Display controllers",
        36,
        "双路 4K 拼接控制器。",
    ),
    ("DW-60", "洗碗机 DW-60", "厨房电器 Kitchen", 24, "Built-in dishwasher, 60 cm."),
    ("BCD-450", "双门冰箱 BCD-450", "厨房电器 Kitchen", 36, "商用双门冷藏冷冻冰箱。"),
    ("WM-80", "滚筒洗衣机 WM-80", "家电 Appliances", 24, "8 kg 滚筒洗衣机。"),
    (
        "KFR-35GW",
        "挂式空调 KFR-35GW",
        "空调 Air conditioning",
        72,
        "1.5 匹变频挂机；整机保修六年。",
    ),
    ("RC-30", "电饭煲 RC-30", "小家电 Small appliances", 12, "3 L 智能电饭煲。"),
)

# serial, model, customer key (or None), organisation key (or None), installed days ago, address
ASSETS = (
    ("LP3300-2301-0042", "LP-3300", "zhangwei", "huadong", 560, "上海市闵行区华东电器 2 号楼 5F"),
    ("LP3300-2301-0043", "LP-3300", None, "huadong", 560, "上海市闵行区华东电器 2 号楼 3F"),
    ("LP5100-2207-0007", "LP-5100C", None, "huadong", 900, "上海市闵行区华东电器 1 号楼前台"),
    ("KF200-2209-1001", "KF-200", None, "huadong", 820, "上海市闵行区华东电器展厅"),
    ("KF200-2209-1002", "KF-200", None, "huadong", 820, "上海市闵行区华东电器展厅"),
    ("KF400-2402-0015", "KF-400", "liuyang", "huadong", 300, "上海市浦东新区张江路 88 号 3 楼"),
    ("KFR35-2502-3381", "KFR-35GW", "liuyang", "huadong", 20, "上海市浦东新区张江路 88 号 3 楼"),
    ("KFR35-2502-3382", "KFR-35GW", None, "huadong", 20, "上海市浦东新区张江路 88 号 4 楼"),
    ("DW60-4821-0097", "DW-60", "emma", "northwind", 640, "Northwind office kitchen, 12/F"),
    ("LP3300-2205-0311", "LP-3300", "emma", "northwind", 1100, "Northwind office, 12/F"),
    ("KF200-2111-0501", "KF-200", "james", "northwind", 1300, "Northwind showroom, Kowloon"),
    ("KF200-2111-0502", "KF-200", None, "northwind", 1300, "Northwind showroom, Kowloon"),
    ("KF400-2406-0101", "KF-400", None, "northwind", 200, "Northwind HQ lobby"),
    ("LP5100-2403-0088", "LP-5100C", "james", "northwind", 280, "Northwind HQ, 8/F"),
    ("BCD450-2201-7788", "BCD-450", "chenjing", "bluesky", 1050, "蓝天酒店后厨"),
    ("BCD450-2201-7789", "BCD-450", None, "bluesky", 1050, "蓝天酒店后厨"),
    ("KFR35-2106-1201", "KFR-35GW", None, "bluesky", 1600, "蓝天酒店 301 房"),
    ("KFR35-2106-1202", "KFR-35GW", None, "bluesky", 1600, "蓝天酒店 302 房"),
    ("KFR35-2106-1203", "KFR-35GW", None, "bluesky", 1600, "蓝天酒店 303 房"),
    ("KFR35-2106-1204", "KFR-35GW", None, "bluesky", 1600, "蓝天酒店 305 房"),
    ("WM80-2207-5566", "WM-80", None, "bluesky", 870, "蓝天酒店洗衣房"),
    ("KF200-2303-2001", "KF-200", None, "bluesky", 640, "蓝天酒店宴会厅"),
    ("WM80-2212-0456", "WM-80", "zhoujie", None, 730, "杭州市西湖区文三路 100 号"),
    ("RC30-2405-8812", "RC-30", "zhoujie", None, 250, "杭州市西湖区文三路 100 号"),
    ("RC30-2309-1175", "RC-30", "xiaolin", None, 450, "广州市天河区体育西路 5 号"),
    ("KFR35-2407-0660", "KFR-35GW", "xiaolin", None, 160, "广州市天河区体育西路 5 号"),
    ("DW60-2304-0120", "DW-60", "sarah", None, 600, "12 Baker Street, London"),
    ("LP3300-2408-0900", "LP-3300", "sarah", None, 130, "12 Baker Street, London"),
    ("WM80-2003-0099", "WM-80", "sarah", None, 2100, "12 Baker Street, London"),
    ("KF400-2501-0030", "KF-400", "james", "northwind", 60, "Northwind warehouse, Tsuen Wan"),
)
RETIRED = {"WM80-2003-0099"}
IN_REPAIR = {"DW60-4821-0097", "BCD450-2201-7788"}


@dataclass(frozen=True)
class DemoContext:
    """What the base demo (``kefu.demo.load``) created, keyed like its ``GROUPS``, ``STAFF`` and
    ``CUSTOMERS``; handed to every app's demo loader. It lives here, in the lowest app that knows
    both people and customers, so that the loaders above import it downwards."""

    groups: dict[str, Group]
    staff: dict[str, User]
    organizations: dict[str, Organization]
    contacts: dict[str, Contact]


def load(context: DemoContext) -> None:
    products: dict[str, Product] = {}
    for model_number, name, category, months, description in PRODUCTS:
        products[model_number] = create_product(
            None,
            model_number=model_number,
            name=name,
            category=category,
            warranty_months=months,
            description=description,
        )
    today = timezone.localdate()
    for serial, model_number, customer, organization, days_ago, address in ASSETS:
        status = (
            AssetStatus.RETIRED
            if serial in RETIRED
            else AssetStatus.IN_REPAIR
            if serial in IN_REPAIR
            else AssetStatus.IN_SERVICE
        )
        create_asset(
            None,
            serial_number=serial,
            product=products[model_number],
            contact=context.contacts[customer] if customer else None,
            organization=context.organizations[organization] if organization else None,
            installed_at=today - timedelta(days=days_ago),
            installation_address=address,
            status=status,
        )
