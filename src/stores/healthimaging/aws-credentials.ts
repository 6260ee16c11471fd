/**
 * The AWS credentials of a HealthImaging store: the static keys of its config, or else the
 * standard AWS chain (environment, shared config and credentials files, SSO, web identity,
 * container and instance roles), cached and renewed before they expire by the SDK's provider.
 */
import { fromNodeProviderChain } from '@aws-sdk/credential-providers';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import { AwsCredentialsConfig } from '../../config/store-config';

export type { AwsCredentialIdentity, AwsCredentialIdentityProvider };

export function awsCredentials(config: AwsCredentialsConfig | undefined): AwsCredentialIdentityProvider {
  if (!config) return fromNodeProviderChain();
  const identity: AwsCredentialIdentity = {
    accessKeyId: config.accessKeyId,
    secretAccessKey: config.secretAccessKey,
    ...(config.sessionToken ? { sessionToken: config.sessionToken } : {}),
  };
  return async () => identity;
}
