-- The inbox (cp-inbox: lib/inbox.c reads, lib/review.c decides), on top of
-- 45-cards.sql.  Documented in cp-inbox(1).
--
-- One person's queue in score order: the default list walks this index
-- and stops at the first screen, with no sort (cards_assignee finds the
-- rows but not in order).
CREATE INDEX cards_inbox ON cards(tenant_id, assignee_id, status, score DESC);
-- One account's queue in score order (--account, account views).
CREATE INDEX cards_account_queue ON cards(tenant_id, account_id, status,
	score DESC);
-- cp-audit lists a tenant's entries in chain order.
CREATE INDEX audit_tenant ON audit(tenant_id, seq);
