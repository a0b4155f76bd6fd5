export { MockModel, type MockModelOptions } from './model/model.ts';
export { startMockServer, type MockServerOptions, type RunningMockServer } from './http-server.ts';
export { mockOpenAI, type MockOpenAIOptions, type MockOpenAIHandlers } from './msw.ts';
export { loadProfile, BUILTIN_PROFILES } from './profiles/index.ts';
export type { Profile, ProfileInput, Fault, FaultInput } from './profiles/schema.ts';
export { Catalogue, CATALOGUE, type CatalogueModel } from '../src/openai/catalogue.ts';
export { parseKey, orgIdFor } from './model/accounts.ts';
export type { MockRequest, MockResponse, OpenAIErrorBody } from './model/types.ts';
