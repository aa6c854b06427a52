// Placeholder until the request validator lands (issue 4): refuses every request.
export const handler = async (): Promise<never> => {
  throw new Error('the request validator is not built yet');
};
