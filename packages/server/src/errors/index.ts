export { UnauthenticatedError } from './unauthenticated-error.js';
export { NotFoundError } from './not-found-error.js';
export { InvalidRequestError } from './invalid-request-error.js';
export { PayloadTooLargeError } from './payload-too-large-error.js';
export { TooManyStreamsError } from './too-many-streams-error.js';
