/**
 * The custom search attributes as `temporal operator search-attribute create` names their types, for whoever
 * registers them: the dev stack (also on an existing DB file), the test setup, the compose setup.
 */
import { searchAttributeKeys } from '../workflows/messages';

const cliTypes: Record<string, string> = {
  KEYWORD: 'Keyword',
  TEXT: 'Text',
  INT: 'Int',
  DOUBLE: 'Double',
  BOOL: 'Bool',
  DATETIME: 'Datetime',
  KEYWORD_LIST: 'KeywordList',
};

export const searchAttributes: Readonly<Record<string, string>> = Object.fromEntries(
  Object.values(searchAttributeKeys).map((key) => [key.name, cliTypes[key.type] ?? key.type]),
);
