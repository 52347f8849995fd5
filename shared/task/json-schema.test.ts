import { describe, expect, it } from 'vitest';
import { RESOURCE_FIELDS, TASK_FIELDS } from './field-names.ts';
import { taskJsonSchema } from './json-schema.ts';

describe('the JSON Schema for editors', () => {
  const s = taskJsonSchema() as { properties: Record<string, { description?: string }>; definitions: { resources: { properties: Record<string, { description?: string }> } } };

  it('has a property for every field the checker knows, and no other', () => {
    expect(Object.keys(s.properties).sort()).toEqual([...TASK_FIELDS].sort());
    expect(Object.keys(s.definitions.resources.properties).sort()).toEqual([...RESOURCE_FIELDS].sort());
  });

  it('says of the fields Kindtray ignores that it ignores them', () => {
    expect(s.definitions.resources.properties.use_spot?.description).toContain('Accepted and ignored by Kindtray');
    expect(s.properties.api_server_access?.description).toContain('Accepted and ignored by Kindtray');
  });
});
