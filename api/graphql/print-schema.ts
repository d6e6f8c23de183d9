/** `npm run graphql:schema`: rewrites schema.graphql at the repository root from the code-first schema. */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { printedSchema, schemaFile } from './schema';

writeFileSync(schemaFile, printedSchema());
console.log(`wrote ${fileURLToPath(schemaFile)}`);
