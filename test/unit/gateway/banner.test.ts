import { describe, expect, it } from 'vitest';
import type { RunningGateway } from '../../../tools/gateway/gateway.ts';
import { banner } from '../../../tools/gateway/start.ts';

describe('the start banner', () => {
  it('prints the local IAM key pairs and a signed curl line when an API has AWS_IAM routes', () => {
    // Arrange
    const gateway = {
      apis: [
        {
          logicalId: 'OrdersApi',
          kind: 'rest',
          url: 'http://127.0.0.1:3000',
          stageName: 'v1',
          authorizerFunctions: [],
          iamRoutes: true,
        },
      ],
      issuerUrl: undefined,
      upstreamUrl: 'http://127.0.0.1:4000',
      demoBackend: undefined,
      services: { dynamo: undefined },
      region: 'us-east-1',
      iamCredentials: [
        {
          accessKeyId: 'AKIABANNERTEST00001',
          secretAccessKey: 'banner-secret',
          principalArn: 'arn:aws:iam::123456789012:user/dev',
        },
      ],
    } as unknown as RunningGateway;

    // Act
    const text = banner(gateway, { lines: [] });

    // Assert
    expect(text).toContain('AKIABANNERTEST00001:banner-secret   (arn:aws:iam::123456789012:user/dev)');
    expect(text).toContain(
      "curl -i --aws-sigv4 'aws:amz:us-east-1:execute-api' --user 'AKIABANNERTEST00001:banner-secret' http://127.0.0.1:3000/...",
    );
  });
});
