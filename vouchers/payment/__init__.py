"""The voucher's payment (issue 15: vouchers sit above payments): the pay worker
and the treasury's retry (`services`), the bank's rejection of a voucher's
payment (registered with payments' bank status import in VouchersConfig.ready),
and the retry's page and API views. Payments' own rows (intents, transfers,
bank files) and money functions stay in payments."""
