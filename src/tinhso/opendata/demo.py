# ruff: noqa: E501 (the demo datasets are a table, one dataset per line)
"""The demo open-data portal: the province's 15 data fields, 60 datasets from its
departments and communes (the figures are illustrative, generated reproducibly over the
real communes of the province), and the platform's own three datasets.

The files come in the shapes real portals receive: UTF-8 CSV with and without a byte-order
mark, Windows-1258 CSV, XLSX, JSON, GeoJSON, PDF and links; one CSV has broken rows, which
the portal reports instead of dropping silently.
"""

from __future__ import annotations

import csv
import io
import json
import random
import unicodedata
import zlib
from datetime import UTC, date, datetime
from typing import Any

from django.db import transaction

from tinhso.agencies.models import Agency, AgencyKind, AgencyLevel
from tinhso.opendata.formats import detect
from tinhso.opendata.models import Dataset, Frequency, Theme
from tinhso.opendata.platform import platform_datasets_refresh
from tinhso.opendata.services import (
    ResourceInput,
    dataset_create,
    publisher_for,
    resource_create,
)

# slug, title, English title, EU data theme
THEMES: list[tuple[str, str, str, str]] = [
    ("nong-nghiep", "Nông nghiệp và phát triển nông thôn", "Agriculture and rural development", "AGRI"),
    ("y-te", "Y tế", "Health", "HEAL"),
    ("giao-duc", "Giáo dục và đào tạo", "Education and training", "EDUC"),
    ("giao-thong", "Giao thông vận tải", "Transport", "TRAN"),
    ("tai-nguyen-moi-truong", "Tài nguyên và môi trường", "Natural resources and environment", "ENVI"),
    ("van-hoa-du-lich", "Văn hóa, thể thao và du lịch", "Culture, sports and tourism", "EDUC"),
    ("cong-thuong", "Công thương", "Industry and trade", "ECON"),
    ("tai-chinh", "Tài chính và ngân sách", "Finance and budget", "ECON"),
    ("dau-tu", "Đầu tư và doanh nghiệp", "Investment and enterprises", "ECON"),
    ("lao-dong-xa-hoi", "Lao động, việc làm và an sinh xã hội", "Labour, employment and social security", "SOCI"),
    ("xay-dung", "Xây dựng và đô thị", "Construction and urban development", "REGI"),
    ("khoa-hoc-cong-nghe", "Khoa học, công nghệ và chuyển đổi số", "Science, technology and digital transformation", "TECH"),
    ("dan-cu", "Dân cư và dân tộc", "Population and ethnic groups", "SOCI"),
    ("tu-phap", "Tư pháp", "Justice", "JUST"),
    ("hanh-chinh-cong", "Hành chính công", "Public administration", "GOVE"),
]  # fmt: skip

C = "commune"
Y = "year"
M = Frequency.MONTHLY
Q = Frequency.QUARTERLY
A = Frequency.ANNUAL
IRREG = Frequency.IRREGULAR
# slug, title, field, publisher (a department's short name, or "commune"), tags, frequency,
# shape (rows per commune, per year, or a list of N named places), columns
# (header, low, high[, decimals]) or (header, [choices]).
DATASETS: list[tuple[str, str, str, str, list[str], str, str, list[tuple]]] = [
    ("dien-tich-lua-theo-xa", "Diện tích, năng suất lúa theo xã", "nong-nghiep", "SNNMT", ["lúa", "trồng trọt"], A, C, [("Diện tích lúa (ha)", 80, 2400), ("Năng suất (tạ/ha)", 52, 68, 1), ("Sản lượng (tấn)", 400, 16000)]),
    ("dan-gia-suc-gia-cam", "Đàn gia súc, gia cầm theo xã", "nong-nghiep", "SNNMT", ["chăn nuôi"], A, C, [("Trâu (con)", 0, 900), ("Bò (con)", 50, 4200), ("Lợn (con)", 300, 25000), ("Gia cầm (nghìn con)", 10, 400)]),
    ("xa-dat-chuan-nong-thon-moi", "Xã đạt chuẩn nông thôn mới", "nong-nghiep", "SNNMT", ["nông thôn mới"], A, C, [("Mức đạt chuẩn", ["Chưa đạt", "Nông thôn mới", "Nâng cao", "Kiểu mẫu"]), ("Năm công nhận", 2015, 2025), ("Số tiêu chí đạt", 12, 19)]),
    ("san-luong-thuy-san", "Sản lượng thủy sản theo năm", "nong-nghiep", "SNNMT", ["thủy sản"], A, Y, [("Khai thác (tấn)", 120000, 160000), ("Nuôi trồng (tấn)", 50000, 75000), ("Tàu cá (chiếc)", 6000, 7300)]),
    ("co-so-kham-chua-benh", "Cơ sở khám, chữa bệnh", "y-te", "SYT", ["bệnh viện", "trạm y tế"], A, "list:120:Trạm Y tế", [("Loại", ["Trạm y tế xã", "Phòng khám đa khoa", "Bệnh viện"]), ("Giường bệnh", 5, 600), ("Bác sĩ", 1, 120)]),
    ("tiem-chung-mo-rong", "Tỷ lệ tiêm chủng mở rộng theo xã", "y-te", "SYT", ["tiêm chủng", "trẻ em"], A, C, [("Trẻ dưới 1 tuổi", 40, 900), ("Tiêm đủ mũi (%)", 88, 100, 1)]),
    ("benh-truyen-nhiem-theo-thang", "Ca bệnh truyền nhiễm theo năm", "y-te", "SYT", ["dịch bệnh"], M, Y, [("Sốt xuất huyết", 20, 3000), ("Tay chân miệng", 100, 2500), ("Cúm", 1000, 9000)]),
    ("nha-thuoc-dat-gpp", "Nhà thuốc đạt chuẩn GPP", "y-te", "SYT", ["dược", "nhà thuốc"], Q, "list:200:Nhà thuốc", [("Giấy chứng nhận GPP", ["Còn hiệu lực", "Đang gia hạn"]), ("Năm cấp", 2019, 2025)]),
    ("truong-hoc-theo-xa", "Trường học theo xã, phường", "giao-duc", "SGDĐT", ["trường học"], A, C, [("Mầm non", 1, 6), ("Tiểu học", 1, 6), ("Trung học cơ sở", 1, 4), ("Trung học phổ thông", 0, 2)]),
    ("hoc-sinh-theo-cap-hoc", "Học sinh theo cấp học và năm học", "giao-duc", "SGDĐT", ["học sinh"], A, Y, [("Mầm non", 190000, 215000), ("Tiểu học", 320000, 350000), ("THCS", 230000, 260000), ("THPT", 120000, 140000)]),
    ("ket-qua-thi-tot-nghiep-thpt", "Kết quả thi tốt nghiệp THPT", "giao-duc", "SGDĐT", ["thi tốt nghiệp"], A, Y, [("Thí sinh", 36000, 45000), ("Tỷ lệ đỗ (%)", 96, 99.8, 2), ("Điểm trung bình", 6.1, 7.2, 2)]),
    ("truong-dat-chuan-quoc-gia", "Trường đạt chuẩn quốc gia", "giao-duc", "SGDĐT", ["trường chuẩn"], A, "list:150:Trường Tiểu học", [("Mức chuẩn", ["Mức độ 1", "Mức độ 2"]), ("Năm công nhận", 2012, 2025)]),
    ("tuyen-xe-buyt", "Tuyến xe buýt", "giao-thong", "SXD", ["xe buýt", "vận tải công cộng"], A, "list:24:Tuyến Hạc Thành –", [("Cự ly (km)", 18, 95, 1), ("Lượt xe/ngày", 20, 120), ("Giá vé (đồng)", 7000, 40000)]),
    ("tai-nan-giao-thong", "Tai nạn giao thông theo năm", "giao-thong", "SXD", ["tai nạn giao thông"], A, Y, [("Số vụ", 180, 400), ("Người chết", 140, 300), ("Người bị thương", 90, 320)]),
    ("cau-tren-tuyen-tinh-lo", "Cầu trên các tuyến tỉnh lộ", "giao-thong", "SXD", ["cầu", "tỉnh lộ"], IRREG, "list:90:Cầu", [("Chiều dài (m)", 12, 480), ("Tải trọng (tấn)", 10, 40), ("Năm xây dựng", 1975, 2024)]),
    ("dang-kiem-phuong-tien", "Phương tiện đăng kiểm theo năm", "giao-thong", "SXD", ["đăng kiểm"], A, Y, [("Ô tô con", 40000, 120000), ("Ô tô tải", 20000, 45000), ("Xe khách", 3000, 6000)]),
    ("chat-luong-khong-khi", "Chất lượng không khí tại các trạm quan trắc", "tai-nguyen-moi-truong", "SNNMT", ["không khí", "quan trắc"], M, "list:12:Trạm quan trắc", [("PM2.5 (µg/m³)", 8, 60, 1), ("AQI", 20, 160), ("Ngày đo", ["2026-01-15", "2026-04-15", "2026-07-15", "2026-10-15"])]),
    ("rung-theo-xa", "Diện tích rừng theo xã", "tai-nguyen-moi-truong", "SNNMT", ["rừng", "lâm nghiệp"], A, C, [("Rừng tự nhiên (ha)", 0, 9000), ("Rừng trồng (ha)", 0, 6000), ("Tỷ lệ che phủ (%)", 5, 80, 1)]),
    ("thu-gom-rac-thai", "Chất thải rắn sinh hoạt được thu gom", "tai-nguyen-moi-truong", "SNNMT", ["rác thải", "môi trường"], A, C, [("Phát sinh (tấn/ngày)", 3, 120, 1), ("Thu gom (%)", 60, 100, 1)]),
    ("giay-phep-khai-thac-khoang-san", "Giấy phép khai thác khoáng sản", "tai-nguyen-moi-truong", "SNNMT", ["khoáng sản", "giấy phép"], Q, "list:70:Mỏ đá", [("Khoáng sản", ["Đá xây dựng", "Cát", "Sét gạch ngói", "Đá vôi xi măng"]), ("Trữ lượng (nghìn m³)", 50, 5000), ("Hết hạn năm", 2026, 2045)]),
    ("di-tich-xep-hang", "Di tích lịch sử - văn hóa được xếp hạng", "van-hoa-du-lich", "SVHTTDL", ["di tích", "văn hóa"], IRREG, "list:110:Đền", [("Cấp xếp hạng", ["Cấp tỉnh", "Quốc gia", "Quốc gia đặc biệt"]), ("Năm xếp hạng", 1962, 2025)]),
    ("luot-khach-du-lich", "Lượt khách du lịch và doanh thu", "van-hoa-du-lich", "SVHTTDL", ["du lịch"], M, Y, [("Khách (nghìn lượt)", 5000, 16000), ("Khách quốc tế (nghìn lượt)", 50, 400), ("Doanh thu (tỷ đồng)", 8000, 32000)]),
    ("co-so-luu-tru-du-lich", "Cơ sở lưu trú du lịch", "van-hoa-du-lich", "SVHTTDL", ["khách sạn", "lưu trú"], Q, "list:160:Khách sạn", [("Hạng sao", 0, 5), ("Số phòng", 8, 400)]),
    ("thiet-che-van-hoa-the-thao", "Nhà văn hóa, sân thể thao theo xã", "van-hoa-du-lich", "SVHTTDL", ["nhà văn hóa", "thể thao"], A, C, [("Nhà văn hóa thôn", 3, 40), ("Sân thể thao", 1, 30)]),
    ("cho-va-trung-tam-thuong-mai", "Chợ và trung tâm thương mại", "cong-thuong", "SCT", ["chợ", "thương mại"], A, "list:130:Chợ", [("Hạng chợ", ["Hạng 1", "Hạng 2", "Hạng 3"]), ("Số hộ kinh doanh", 20, 900)]),
    ("cum-cong-nghiep", "Cụm công nghiệp", "cong-thuong", "SCT", ["cụm công nghiệp"], A, "list:45:Cụm công nghiệp", [("Diện tích (ha)", 20, 75, 1), ("Tỷ lệ lấp đầy (%)", 10, 100, 1)]),
    ("gia-tri-xuat-khau", "Giá trị xuất khẩu theo năm", "cong-thuong", "SCT", ["xuất khẩu"], A, Y, [("Kim ngạch (triệu USD)", 1500, 6500), ("Dệt may (triệu USD)", 700, 1900), ("Giày dép (triệu USD)", 300, 1400)]),
    ("san-pham-ocop", "Sản phẩm OCOP được công nhận", "cong-thuong", "SCT", ["OCOP"], Q, "list:180:Sản phẩm", [("Hạng sao", 3, 5), ("Nhóm", ["Thực phẩm", "Đồ uống", "Thủ công mỹ nghệ", "Dược liệu", "Du lịch"]), ("Năm công nhận", 2019, 2025)]),
    ("du-toan-ngan-sach", "Dự toán thu, chi ngân sách tỉnh", "tai-chinh", "STC", ["ngân sách"], A, Y, [("Thu nội địa (tỷ đồng)", 18000, 40000), ("Chi đầu tư (tỷ đồng)", 9000, 22000), ("Chi thường xuyên (tỷ đồng)", 20000, 31000)]),
    ("quyet-toan-ngan-sach-xa", "Quyết toán ngân sách xã", "tai-chinh", "STC", ["ngân sách xã"], A, C, [("Thu (triệu đồng)", 4000, 90000), ("Chi (triệu đồng)", 4000, 88000)]),
    ("gia-dat-theo-khu-vuc", "Bảng giá đất theo khu vực", "tai-chinh", "STC", ["giá đất"], A, C, [("Đất ở đô thị (nghìn đồng/m²)", 0, 45000), ("Đất ở nông thôn (nghìn đồng/m²)", 300, 9000)]),
    ("thu-phi-le-phi", "Thu phí, lệ phí theo năm", "tai-chinh", "STC", ["phí", "lệ phí"], A, Y, [("Phí (tỷ đồng)", 300, 900), ("Lệ phí (tỷ đồng)", 800, 2400)]),
    ("doanh-nghiep-thanh-lap-moi", "Doanh nghiệp thành lập mới theo năm", "dau-tu", "STC", ["doanh nghiệp"], M, Y, [("Doanh nghiệp mới", 1500, 3200), ("Vốn đăng ký (tỷ đồng)", 15000, 60000), ("Quay lại hoạt động", 400, 1200)]),
    ("du-an-dau-tu-ngoai-ngan-sach", "Dự án đầu tư ngoài ngân sách được chấp thuận", "dau-tu", "STC", ["đầu tư", "dự án"], Q, "list:140:Dự án", [("Vốn (tỷ đồng)", 20, 9000), ("Lĩnh vực", ["Công nghiệp", "Du lịch", "Nông nghiệp", "Đô thị", "Năng lượng"])]),
    ("von-fdi", "Vốn đầu tư trực tiếp nước ngoài", "dau-tu", "STC", ["FDI"], A, Y, [("Dự án mới", 10, 60), ("Vốn đăng ký (triệu USD)", 100, 2500)]),
    ("ho-kinh-doanh-theo-xa", "Hộ kinh doanh theo xã", "dau-tu", "STC", ["hộ kinh doanh"], A, C, [("Hộ kinh doanh", 50, 3500)]),
    ("ho-ngheo-can-ngheo", "Hộ nghèo, cận nghèo theo xã", "lao-dong-xa-hoi", "SNV", ["giảm nghèo"], A, C, [("Hộ nghèo", 0, 900), ("Hộ cận nghèo", 0, 1200), ("Tỷ lệ hộ nghèo (%)", 0, 25, 2)]),
    ("lao-dong-duoc-tao-viec-lam", "Lao động được tạo việc làm", "lao-dong-xa-hoi", "SNV", ["việc làm"], A, Y, [("Lao động có việc làm mới", 55000, 70000), ("Đi làm việc ở nước ngoài", 8000, 13000)]),
    ("doi-tuong-bao-tro-xa-hoi", "Đối tượng bảo trợ xã hội theo xã", "lao-dong-xa-hoi", "SNV", ["bảo trợ xã hội"], A, C, [("Người cao tuổi", 100, 2200), ("Người khuyết tật", 30, 900), ("Trẻ em mồ côi", 0, 60)]),
    ("tham-gia-bao-hiem-xa-hoi", "Người tham gia bảo hiểm xã hội", "lao-dong-xa-hoi", "SNV", ["bảo hiểm xã hội"], A, Y, [("BHXH bắt buộc", 250000, 330000), ("BHXH tự nguyện", 20000, 90000), ("BHYT (%)", 88, 95, 1)]),
    ("giay-phep-xay-dung", "Giấy phép xây dựng đã cấp", "xay-dung", "SXD", ["giấy phép xây dựng"], M, Y, [("Nhà ở riêng lẻ", 1500, 4200), ("Công trình khác", 200, 700)]),
    ("du-an-nha-o-xa-hoi", "Dự án nhà ở xã hội", "xay-dung", "SXD", ["nhà ở xã hội"], Q, "list:25:Khu nhà ở xã hội", [("Số căn", 200, 2500), ("Tình trạng", ["Chuẩn bị đầu tư", "Đang xây dựng", "Đã hoàn thành"])]),
    ("quy-hoach-phan-khu", "Đồ án quy hoạch được phê duyệt", "xay-dung", "SXD", ["quy hoạch"], IRREG, "list:60:Quy hoạch phân khu", [("Diện tích (ha)", 30, 2500), ("Năm phê duyệt", 2018, 2026)]),
    ("den-chieu-sang-cong-cong", "Chiếu sáng công cộng theo phường", "xay-dung", "SXD", ["chiếu sáng"], A, C, [("Tuyến đường có chiếu sáng", 0, 120), ("Đèn LED (%)", 20, 100, 1)]),
    ("diem-wifi-cong-cong", "Điểm wifi công cộng miễn phí", "khoa-hoc-cong-nghe", "SKHCN", ["wifi", "hạ tầng số"], Q, "geo:80:Điểm wifi", [("Nhà cung cấp", ["VNPT", "Viettel", "FPT"])]),
    ("ty-le-ho-so-truc-tuyen", "Tỷ lệ hồ sơ trực tuyến theo năm", "khoa-hoc-cong-nghe", "SKHCN", ["dịch vụ công trực tuyến", "chuyển đổi số"], A, Y, [("Hồ sơ trực tuyến (%)", 10, 85, 1), ("Thanh toán trực tuyến (%)", 2, 60, 1)]),
    ("doanh-nghiep-khoa-hoc-cong-nghe", "Doanh nghiệp khoa học và công nghệ", "khoa-hoc-cong-nghe", "SKHCN", ["khoa học công nghệ"], A, "list:40:Công ty", [("Năm chứng nhận", 2014, 2025), ("Lĩnh vực", ["Nông nghiệp công nghệ cao", "Phần mềm", "Vật liệu", "Cơ khí"])]),
    ("tram-phat-song-di-dong", "Trạm phát sóng di động theo xã", "khoa-hoc-cong-nghe", "SKHCN", ["viễn thông", "5G"], A, C, [("Trạm 4G", 2, 60), ("Trạm 5G", 0, 30), ("Hộ có cáp quang (%)", 40, 100, 1)]),
    ("dan-so-theo-xa", "Dân số, diện tích và mật độ theo xã, phường", "dan-cu", "SNV", ["dân số"], A, C, [("Dân số (người)", 6000, 90000), ("Diện tích (km²)", 10, 400, 2), ("Mật độ (người/km²)", 30, 5200)]),
    ("dan-toc-thieu-so", "Dân tộc thiểu số theo xã", "dan-cu", "SDTTG", ["dân tộc"], A, C, [("Người Mường", 0, 20000), ("Người Thái", 0, 15000), ("Dân tộc khác", 0, 3000)]),
    ("co-so-ton-giao", "Cơ sở tôn giáo được công nhận", "dan-cu", "SDTTG", ["tôn giáo"], IRREG, "list:90:Chùa", [("Tôn giáo", ["Phật giáo", "Công giáo", "Tin lành"]), ("Năm công nhận", 1990, 2025)]),
    ("dan-so-theo-nam", "Dân số trung bình theo năm", "dan-cu", "SNV", ["dân số", "thống kê"], A, Y, [("Dân số (nghìn người)", 3600, 4400), ("Tỷ lệ tăng tự nhiên (‰)", 5, 11, 2), ("Thành thị (%)", 14, 35, 1)]),
    ("to-chuc-hanh-nghe-cong-chung", "Tổ chức hành nghề công chứng", "tu-phap", "STP", ["công chứng"], Q, "list:48:Văn phòng công chứng", [("Công chứng viên", 1, 8), ("Năm thành lập", 2008, 2025)]),
    ("dang-ky-ho-tich-theo-xa", "Đăng ký hộ tịch theo xã", "tu-phap", "STP", ["hộ tịch", "khai sinh"], A, C, [("Khai sinh", 60, 1900), ("Kết hôn", 20, 800), ("Khai tử", 20, 600)]),
    ("tro-giup-phap-ly", "Vụ việc trợ giúp pháp lý", "tu-phap", "STP", ["trợ giúp pháp lý"], A, Y, [("Vụ việc", 1500, 3200), ("Tham gia tố tụng", 600, 1500)]),
    ("van-ban-quy-pham-phap-luat", "Văn bản quy phạm pháp luật của tỉnh", "tu-phap", "STP", ["văn bản pháp luật"], M, Y, [("Nghị quyết HĐND", 20, 80), ("Quyết định UBND", 40, 160)]),
    ("chi-so-cai-cach-hanh-chinh", "Chỉ số cải cách hành chính của các sở", "hanh-chinh-cong", "SNV", ["cải cách hành chính", "PAR Index"], A, "list:14:Sở", [("Điểm (trên 100)", 70, 95, 2), ("Xếp hạng", 1, 14)]),
    ("bo-phan-mot-cua-cap-xa", "Bộ phận Một cửa cấp xã", "hanh-chinh-cong", "TTPVHCC", ["một cửa"], A, C, [("Công chức tiếp nhận", 2, 6), ("Quầy", 2, 8)]),
    ("muc-do-hai-long", "Mức độ hài lòng của người dân theo năm", "hanh-chinh-cong", "TTPVHCC", ["hài lòng", "SIPAS"], A, Y, [("Hài lòng (%)", 85, 99, 1), ("Phiếu khảo sát", 5000, 42000)]),
    ("bien-che-cong-chuc", "Biên chế công chức, viên chức", "hanh-chinh-cong", "SNV", ["biên chế"], A, Y, [("Công chức", 3800, 4600), ("Viên chức", 52000, 61000)]),
]  # fmt: skip

# Thanh Hóa's bounding box, for the demo points.
LAT, LON = (19.30, 20.60), (104.40, 106.05)


def _communes() -> list[Agency]:
    return list(
        Agency.objects.filter(level=AgencyLevel.COMMUNE, kind=AgencyKind.PEOPLES_COMMITTEE)
        .exclude(admin_unit_name="")
        .order_by("admin_unit_code")
    )


def _value(rng: random.Random, column: tuple) -> object:
    if isinstance(column[1], list):
        return rng.choice(column[1])
    low, high = column[1], column[2]
    if len(column) > 3:
        return round(rng.uniform(low, high), column[3])
    if isinstance(low, float) or isinstance(high, float):
        return round(rng.uniform(low, high), 2)
    return rng.randint(low, high)


Table = tuple[list[str], list[list[Any]]]


def _table(rng: random.Random, shape: str, columns: list[tuple], communes: list[Agency]) -> Table:
    """Header and rows for one dataset."""
    metric_headers = [c[0] for c in columns]
    if shape == C:
        header = ["Mã đơn vị hành chính", "Xã, phường", *metric_headers]
        rows: list[list[Any]] = [
            [c.admin_unit_code, c.admin_unit_name, *[_value(rng, col) for col in columns]]
            for c in communes
        ]
    elif shape == Y:
        header = ["Năm", *metric_headers]
        rows = [[year, *[_value(rng, col) for col in columns]] for year in range(2016, 2026)]
    else:
        kind, count, prefix = shape.split(":", 2)
        header = ["STT", "Tên", "Xã, phường", *metric_headers]
        if kind == "geo":
            header += ["Vĩ độ", "Kinh độ"]
        rows = []
        for n in range(1, int(count) + 1):
            place = rng.choice(communes)
            name = f"{prefix} {place.admin_unit_name.split(' ', 1)[-1]}"
            if any(str(r[1]).startswith(name) for r in rows):
                name += f" {n}"
            row = [n, name, place.admin_unit_name, *[_value(rng, col) for col in columns]]
            if kind == "geo":
                row += [round(rng.uniform(*LAT), 5), round(rng.uniform(*LON), 5)]
            rows.append(row)
    return header, rows


def encode_cp1258(text: str) -> bytes:
    """Text as Vietnamese Windows (Windows-1258) writes it: a letter with a tone mark that
    has no code of its own is its base letter (â, ê, ô, ơ, ư, ă where they exist) followed by
    the combining tone mark."""
    out = bytearray()
    for char in text:
        try:
            out += char.encode("cp1258")
            continue
        except UnicodeEncodeError:
            pass
        parts = unicodedata.normalize("NFD", char)
        base, marks = parts[0], parts[1:]
        for i, mark in enumerate(marks):
            composed = unicodedata.normalize("NFC", base + mark)
            if len(composed) == 1:
                try:
                    composed.encode("cp1258")
                except UnicodeEncodeError:
                    continue
                base, marks = composed, marks[:i] + marks[i + 1 :]
                break
        out += (base + marks).encode("cp1258")
    return bytes(out)


def _csv_bytes(header: list[str], rows: list[list], encoding: str = "utf-8") -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    if encoding == "cp1258":
        return encode_cp1258(out.getvalue())
    return out.getvalue().encode(encoding)


def _xlsx_bytes(header: list[str], rows: list[list]) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None  # noqa: S101 (a new workbook has one sheet)
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _geojson_bytes(header: list[str], rows: list[list]) -> bytes:
    features = [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [row[-1], row[-2]]},
            "properties": dict(zip(header[:-2], row[:-2], strict=True)),
        }
        for row in rows
    ]
    return json.dumps(
        {"type": "FeatureCollection", "features": features}, ensure_ascii=False
    ).encode()


def _pdf_bytes(title: str, header: list[str], rows: list[list]) -> bytes:
    from tinhso.core.pdf import OfficialDocument

    doc = OfficialDocument(
        superior="ỦY BAN NHÂN DÂN TỈNH THANH HÓA",
        agency="CỔNG DỮ LIỆU MỞ",
        number="",
        place="Thanh Hóa",
        date=datetime(2026, 1, 15, tzinfo=UTC),
        title="BÁO CÁO SỐ LIỆU",
        subtitle=title,
    )
    doc.paragraph("Bản tóm tắt số liệu (số liệu minh họa của bản demo).")
    doc.table(
        header[:4],
        [[str(v) for v in row[:4]] for row in rows[:25]],
        [20.0, 70.0, 50.0, 40.0][: len(header[:4])],
    )
    return doc.output()


def _files(
    index: int, slug: str, title: str, header: list[str], rows: list[list], shape: str
) -> list[tuple[str, str, bytes]]:
    """The files of one demo dataset, in the variety real portals receive."""
    files: list[tuple[str, str, bytes]] = []
    if shape.startswith("geo:"):
        files.append((f"{title}.geojson", f"{slug}.geojson", _geojson_bytes(header, rows)))
        files.append((f"{title} (bảng)", f"{slug}.csv", _csv_bytes(header, rows)))
        return files
    if index % 10 == 3:
        files.append((title, f"{slug}.xlsx", _xlsx_bytes(header, rows)))
    elif index % 15 == 7:
        files.append((title, f"{slug}.csv", _csv_bytes(header, rows, "cp1258")))
    elif index % 10 == 6:
        files.append((title, f"{slug}.csv", _csv_bytes(header, rows, "utf-8-sig")))
    elif index == 11:
        body = _csv_bytes(header, rows)
        # A file as an export with mistakes arrives: two rows with a cell too many or too few.
        lines = body.decode().split("\r\n")
        lines.insert(4, lines[3] + ",thừa")
        lines.insert(8, ",".join(lines[7].split(",")[:-1]))
        files.append((title, f"{slug}.csv", "\r\n".join(lines).encode()))
    else:
        files.append((title, f"{slug}.csv", _csv_bytes(header, rows)))
    if index % 10 == 8:
        records = [dict(zip(header, row, strict=True)) for row in rows]
        files.append(
            (f"{title} (JSON)", f"{slug}.json", json.dumps(records, ensure_ascii=False).encode())
        )
    if index % 12 == 5:
        files.append((f"{title} (báo cáo PDF)", f"{slug}.pdf", _pdf_bytes(title, header, rows)))
    return files


def demo_themes_seed() -> dict[str, Theme]:
    themes = {}
    for slug, title, title_en, eu in THEMES:
        themes[slug], _created = Theme.objects.get_or_create(
            name=slug, defaults={"title": title, "title_en": title_en, "eu_theme": eu}
        )
    return themes


def _publisher_agency(short: str) -> Agency | None:
    if short == "TTPVHCC":
        return Agency.objects.filter(kind=AgencyKind.SERVICE_CENTRE).first()
    return Agency.objects.filter(short_name=short, level=AgencyLevel.PROVINCE).first()


def demo_opendata_seed() -> int:
    """Load the demo portal once; returns the number of datasets created."""
    demo_themes_seed()
    if Dataset.objects.filter(generator="").exists():
        platform_datasets_refresh()
        return 0
    communes = _communes()
    if not communes:
        return 0
    created = 0
    with transaction.atomic():
        for index, (slug, title, theme, short, tags, frequency, shape, columns) in enumerate(
            DATASETS
        ):
            agency = _publisher_agency(short)
            if agency is None:
                continue
            rng = random.Random(zlib.crc32(slug.encode()))  # noqa: S311 (demo figures)
            header, rows = _table(rng, shape, columns, communes)
            dataset = dataset_create(
                actor=None,
                publisher=publisher_for(agency),
                data={
                    "name": slug,
                    "title": title,
                    "notes": f"{title} trên địa bàn tỉnh Thanh Hóa. Số liệu minh họa của bản demo.",
                    "groups": [theme],
                    "tags": tags,
                    "frequency": frequency,
                    "license_id": "CC-BY-4.0" if index % 7 else "ODbL-1.0",
                    "temporal_start": date(2016, 1, 1) if shape == Y else date(2025, 1, 1),
                    "temporal_end": date(2025, 12, 31),
                    "spatial": "Tỉnh Thanh Hóa",
                    "contact_name": agency.name,
                    "contact_email": agency.email,
                    # Two stay private: drafts their publishers have not published yet.
                    "private": index in (9, 44),
                },
            )
            for name, filename, content in _files(index, slug, title, header, rows, shape):
                resource_create(
                    actor=None,
                    dataset=dataset,
                    data=ResourceInput(name=name, file=detect(filename, content)),
                    background=False,  # the demo's small tables, ready when the seed ends
                )
            if index % 20 == 2:
                resource_create(
                    actor=None,
                    dataset=dataset,
                    data=ResourceInput(
                        name="Cổng thông tin điện tử tỉnh Thanh Hóa",
                        url="https://thanhhoa.gov.vn/",
                        format="HTML",
                    ),
                )
            created += 1
    platform_datasets_refresh()
    return created
