// @nl2q/connectors/boast: file exchange with BOAST over SFTP — exports out, validated files in.
import { defineConnector } from '@nl2q/core'

export const boastConnector = defineConnector({ name: 'boast' })

export default boastConnector
