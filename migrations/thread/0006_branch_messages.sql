-- Messages of a response chain that continues, by previous_response_id, a
-- response made in a conversation: they live in the conversation's object
-- (where their history is) but are not the conversation's items. NULL for
-- every ordinary message, which SQLite stores at no cost.
ALTER TABLE messages ADD COLUMN branch INTEGER;
