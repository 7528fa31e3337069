// The `provisioner` decorator: local (the embedded default) or kubernetes.
import fp from 'fastify-plugin'
import type { Provisioner } from '../../provisioners/provisioner.ts'

declare module 'fastify' {
  interface FastifyInstance {
    provisioner: Provisioner
  }
}

export default fp(async app => {
  const { config } = app
  let provisioner: Provisioner
  if (config.provisioner === 'kubernetes') {
    const { createKubernetesProvisioner } = await import('../../provisioners/kubernetes/provisioner.ts')
    provisioner = createKubernetesProvisioner({
      kubeconfigPath: config.kubernetes.kubeconfig,
      image: config.kubernetes.image,
      storageClass: config.kubernetes.storageClass,
      region: config.kubernetes.region,
      crashRestarts: config.kubernetes.crashRestarts,
      controlPlaneCidrs: config.kubernetes.controlPlaneCidrs,
      clusterDomain: config.kubernetes.clusterDomain,
      notFoundPulls: config.kubernetes.imageNotFoundPulls,
      logger: app.log,
      controlPlaneId: app.controlPlane.id
    })
  } else {
    const { createLocalProvisioner } = await import('../../provisioners/local/index.ts')
    provisioner = createLocalProvisioner({
      dataDir: config.dataDir,
      portMin: config.local.portMin,
      portMax: config.local.portMax,
      binDir: config.pgBinDir,
      logger: app.log,
      controlPlaneId: app.controlPlane.id
    })
  }
  app.decorate('provisioner', provisioner)
  app.addHook('onClose', async () => { await provisioner.close() })
  // Said plainly at boot (and by /readyz): a platform that cannot be reached does not stop the API from starting.
  app.addHook('onReady', async () => {
    const reason = await provisioner.unreachableReason(AbortSignal.timeout(3000)).catch((err: Error) => err.message)
    if (reason) app.log.warn({ provisioner: provisioner.kind }, `the ${provisioner.kind} platform cannot be reached: ${reason}; creates will wait and fail until it can`)
  })
}, { name: 'provisioner', dependencies: ['control-plane'] })
