-- The inbox (cp-inbox: lib/inbox.c reads, lib/review.c decides), on top of
-- 45-cards.sql.  Documented in cp-inbox(1).
--
-- The list walks one of these in score order and stops at the first
-- screen; account_id is in them so the scope test (account in temp.scope)
-- is answered from the index, without reading a card that is not shown.
-- One person's queue:
CREATE INDEX cards_inbox ON cards(tenant_id, assignee_id, status, score DESC,
	account_id);
-- The team's or the tenant's queue (--all):
CREATE INDEX cards_scope_queue ON cards(tenant_id, status, score DESC,
	account_id);
-- One account's queue (--account, account views):
CREATE INDEX cards_account_queue ON cards(tenant_id, account_id, status,
	score DESC);
-- cp-audit lists a tenant's entries in chain order.
CREATE INDEX audit_tenant ON audit(tenant_id, seq);
