"""The fair dispatcher: releases pending items to the portal queues in bounded windows."""
