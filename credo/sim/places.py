"""Regions with their administrative division codes, and street addresses in Hanzi.

The six-digit codes are the real GB/T 2260 codes of these districts, so a generated identity
number's region prefix names a real place, and the region of birth (in the id) can differ
from the region of residence (in the address), as it does for the many who moved.
Suining (遂宁) is over-represented because the shipped points regime is the Suining pilot's.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["REGIONS", "STREETS", "Region", "format_address"]


@dataclass(frozen=True)
class Region:
    code: str
    province: str  # empty for the municipalities, whose city is the province
    city: str
    district: str
    plate: str  # vehicle plate prefix of the city
    weight: float

    @property
    def prefix(self) -> str:
        return f"{self.province}{self.city}{self.district}"


def _r(code: str, province: str, city: str, district: str, plate: str, w: float) -> Region:
    return Region(code, province, city, district, plate, w)


REGIONS: tuple[Region, ...] = (
    _r("110101", "", "北京市", "东城区", "京A", 2), _r("110102", "", "北京市", "西城区", "京A", 2),
    _r("110105", "", "北京市", "朝阳区", "京A", 4), _r("110106", "", "北京市", "丰台区", "京A", 2),
    _r("110108", "", "北京市", "海淀区", "京A", 4),
    _r("310101", "", "上海市", "黄浦区", "沪A", 2), _r("310104", "", "上海市", "徐汇区", "沪A", 3),
    _r("310106", "", "上海市", "静安区", "沪A", 2),
    _r("310115", "", "上海市", "浦东新区", "沪A", 5),
    _r("440104", "广东省", "广州市", "越秀区", "粤A", 2),
    _r("440105", "广东省", "广州市", "海珠区", "粤A", 2),
    _r("440106", "广东省", "广州市", "天河区", "粤A", 3),
    _r("440304", "广东省", "深圳市", "福田区", "粤B", 3),
    _r("440305", "广东省", "深圳市", "南山区", "粤B", 3),
    _r("440306", "广东省", "深圳市", "宝安区", "粤B", 3),
    _r("510104", "四川省", "成都市", "锦江区", "川A", 2),
    _r("510105", "四川省", "成都市", "青羊区", "川A", 2),
    _r("510107", "四川省", "成都市", "武侯区", "川A", 3),
    _r("510903", "四川省", "遂宁市", "船山区", "川J", 4),
    _r("510904", "四川省", "遂宁市", "安居区", "川J", 2),
    _r("330102", "浙江省", "杭州市", "上城区", "浙A", 2),
    _r("330105", "浙江省", "杭州市", "拱墅区", "浙A", 2),
    _r("330106", "浙江省", "杭州市", "西湖区", "浙A", 3),
    _r("330108", "浙江省", "杭州市", "滨江区", "浙A", 2),
    _r("320102", "江苏省", "南京市", "玄武区", "苏A", 2),
    _r("320106", "江苏省", "南京市", "鼓楼区", "苏A", 2),
    _r("320508", "江苏省", "苏州市", "姑苏区", "苏E", 2),
    _r("420102", "湖北省", "武汉市", "江岸区", "鄂A", 2),
    _r("420106", "湖北省", "武汉市", "武昌区", "鄂A", 2),
    _r("420111", "湖北省", "武汉市", "洪山区", "鄂A", 2),
    _r("610103", "陕西省", "西安市", "碑林区", "陕A", 2),
    _r("610113", "陕西省", "西安市", "雁塔区", "陕A", 3),
    _r("410103", "河南省", "郑州市", "二七区", "豫A", 2),
    _r("410105", "河南省", "郑州市", "金水区", "豫A", 2),
    _r("370102", "山东省", "济南市", "历下区", "鲁A", 2),
    _r("370202", "山东省", "青岛市", "市南区", "鲁B", 2),
    _r("500103", "", "重庆市", "渝中区", "渝A", 2), _r("500105", "", "重庆市", "江北区", "渝A", 2),
)  # fmt: skip

STREETS = (
    "中山路", "人民路", "解放路", "建设路", "和平路", "长江路", "新华路", "朝阳路", "文化路",
    "胜利路", "青年路", "花园路", "科技路", "光明街", "东风路", "五一路", "滨江大道", "学府路",
)  # fmt: skip


def format_address(region: Region, rng: np.random.Generator) -> str:
    """A full address: province, city, district, street and number, building, unit, room."""
    street = STREETS[int(rng.integers(0, len(STREETS)))]
    number = int(rng.integers(1, 400))
    if rng.random() < 0.15:  # a house in a lane, no building
        return f"{region.prefix}{street}{number}号"
    building = int(rng.integers(1, 30))
    unit = int(rng.integers(1, 6))
    room = int(rng.integers(1, 33)) * 100 + int(rng.integers(1, 5))
    return f"{region.prefix}{street}{number}号{building}栋{unit}单元{room}室"
