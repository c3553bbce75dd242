"""End-to-end flows in Debian's Chromium against a real ``kefu run --demo`` server."""

import re

import pytest
from django.utils import translation

pytestmark = pytest.mark.browser

AGENT = ("wang@demo.kefu", "kefu-demo-agent")
ADMIN = ("admin@demo.kefu", "kefu-demo-admin")
CUSTOMER = ("zhangwei@huadong.example", "kefu-demo-customer")


def log_in(page, base_url, email, password):
    page.goto(base_url + "/accounts/login/")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    with page.expect_navigation():
        page.click("form.stack button[type=submit]")


def test_agent_opens_a_demo_ticket_and_replies(chromium, live_kefu):
    context = chromium.new_context(locale="en-US")
    page = context.new_page()
    try:
        log_in(page, live_kefu, *AGENT)
        assert page.url.rstrip("/").endswith("/tickets")
        with page.expect_navigation():
            page.locator("table.tickets a[href^='/tickets/']").first.click()
        assert re.search(r"/tickets/\d+/$", page.url)
        page.fill("#reply-form textarea[name=body]", "浏览器测试回复 browser reply 42")
        page.click("#reply-form button[value=reply]")
        page.locator("#timeline").get_by_text("browser reply 42").wait_for(timeout=10000)
        page.reload()
        assert page.locator("#timeline").get_by_text("浏览器测试回复 browser reply 42").count() == 1
    finally:
        context.close()


def test_customer_submits_in_the_portal_and_sees_the_agent_reply(chromium, live_kefu):
    customer_context = chromium.new_context(locale="zh-CN")
    agent_context = chromium.new_context(locale="en-US")
    customer = customer_context.new_page()
    agent = agent_context.new_page()
    try:
        log_in(customer, live_kefu, *CUSTOMER)
        customer.goto(live_kefu + "/portal/new/")
        customer.fill("input[name=subject]", "冰箱不制冷 fridge not cooling")
        customer.fill("textarea[name=body]", "昨天开始不制冷，型号 BCD-520。")
        with customer.expect_navigation():
            customer.click("form.portal-new button[type=submit]")
        match = re.search(r"/portal/(\d+)/$", customer.url)
        assert match, customer.url
        ticket_id = match.group(1)

        log_in(agent, live_kefu, *AGENT)
        agent.goto(f"{live_kefu}/tickets/{ticket_id}/")
        assert agent.get_by_text("冰箱不制冷 fridge not cooling").count() >= 1
        agent.fill("#reply-form textarea[name=body]", "请检查电源插头 please check the plug")
        agent.click("#reply-form button[value=reply]")
        agent.locator("#timeline").get_by_text("please check the plug").wait_for(timeout=10000)

        customer.reload()
        assert customer.get_by_text("请检查电源插头 please check the plug").count() == 1
    finally:
        customer_context.close()
        agent_context.close()


def test_switching_to_chinese_shows_the_chinese_ui(chromium, live_kefu):
    context = chromium.new_context(locale="en-US")
    page = context.new_page()
    try:
        log_in(page, live_kefu, *ADMIN)
        with translation.override("en"):
            english = translation.gettext("Log out")
        with translation.override("zh-hans"):
            chinese = translation.gettext("Log out")
        assert chinese != english, "the zh_Hans catalogue has no translation for 'Log out'"
        assert page.locator("header.topbar").get_by_text(english).count() == 1
        # The switcher submits its form on change: wait for that navigation, not just idleness.
        with page.expect_navigation():
            page.select_option("form.langswitch select[name=language]", "zh-hans")
        assert page.locator("html").get_attribute("lang") == "zh-hans"
        assert page.locator("header.topbar").get_by_text(chinese).count() == 1
        with page.expect_navigation():
            page.select_option("form.langswitch select[name=language]", "en")
        assert page.locator("html").get_attribute("lang") == "en"
    finally:
        context.close()
