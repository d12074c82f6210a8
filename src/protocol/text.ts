/** The well-formed string schema every text field uses (its own module so the other schema files can share it without import cycles). */
import { z } from "zod";

/**
 * A string that can be stored and returned exactly: well-formed Unicode. A lone
 * surrogate cannot be encoded as UTF-8, so SQLite would store something else;
 * it is refused with a 400 instead.
 */
export const Text = () => z.string().refine((s) => s.isWellFormed(), "must be well-formed Unicode (no lone surrogates)");
