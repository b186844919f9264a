"""`{% voucher_result voucher as result %}`: the result section's data for the
signed-in user (vouchers.payment.selectors.voucher_result_context), so the
voucher page includes templates/payments/_voucher_result.html as it is."""

from django import template

register = template.Library()


@register.simple_tag(takes_context=True)
def voucher_result(context, voucher):  # noqa: ANN001, ANN201
    from vouchers.payment.selectors import voucher_result_context

    request = context.get("request")
    if request is None or voucher is None:
        return None
    return voucher_result_context(request.user, voucher)
